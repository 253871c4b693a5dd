"""An epoch-based training loop that passes over the training data once per training phase."""
from typing import Dict, Sequence, Union

from mmaction.registry import LOOPS
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader


@LOOPS.register_module()
class TwoPassEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Each epoch runs a full pass over the training data for every phase in turn (GKD: first
    the CVAE, then the student), telling the model which phase it is in through its
    ``train_phase`` attribute (reset to None after the epoch).

    Iterations count every pass (``max_iters = max_epochs * len(dataloader) * len(phases)``);
    hooks see every iteration; validation and checkpoints follow the epochs as usual. Use
    epoch-based parameter schedulers (iteration-based ones converted from epochs assume one pass
    per epoch).

    Args:
        runner: The runner.
        dataloader: The training dataloader or its config.
        max_epochs: Training epochs.
        phases: Names of the phases, in their order within an epoch.
        kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals`` of mmengine's loop.
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict], max_epochs: int,
                 phases: Sequence[str] = ('cvae', 'student'), **kwargs) -> None:
        super().__init__(runner, dataloader, max_epochs, **kwargs)
        if not phases:
            raise ValueError('TwoPassEpochBasedTrainLoop needs at least one phase')
        self.phases = tuple(phases)
        self._max_iters = self._max_epochs * len(self.dataloader) * len(self.phases)

    def _phased_model(self):
        model = self.runner.model.module if is_model_wrapper(self.runner.model) \
            else self.runner.model
        if not hasattr(model, 'train_phase'):
            raise TypeError(f'TwoPassEpochBasedTrainLoop trains models with a train_phase '
                            f'attribute (GenerativeFeatureDistiller), not {type(model).__name__}')
        return model

    def run_epoch(self) -> None:
        """One pass over the data per phase."""
        model = self._phased_model()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        try:
            for phase in self.phases:
                model.train_phase = phase
                for idx, data_batch in enumerate(self.dataloader):
                    self.run_iter(idx, data_batch)
        finally:
            model.train_phase = None
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
