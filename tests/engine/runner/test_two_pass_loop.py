import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmemtm.engine import TwoPassEpochBasedTrainLoop  # noqa: F401  (registers the loop)


class _Toy(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, idx):
        return dict(inputs=torch.tensor([float(idx)]))


class _PhasedModel(BaseModel):
    """Records the phase of every training step."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.train_phase = None
        self.steps = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss=(self.weight * inputs).sum())

    def train_step(self, data, optim_wrapper):
        self.steps.append(self.train_phase)
        return super().train_step(data, optim_wrapper)


def test_each_epoch_runs_a_full_pass_per_phase(tmp_path):
    model = _PhasedModel()
    runner = Runner(
        model=model, work_dir=str(tmp_path),
        train_dataloader=dict(dataset=_Toy(), batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(type='TwoPassEpochBasedTrainLoop', max_epochs=2, phases=('cvae', 'student')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1), checkpoint=None),
        default_scope='mmaction')
    runner.train()
    assert model.steps == ['cvae'] * 3 + ['student'] * 3 + ['cvae'] * 3 + ['student'] * 3
    assert runner.train_loop.max_iters == 12 and runner.iter == 12 and runner.epoch == 2
    assert model.train_phase is None


def test_a_model_without_phases_is_refused(tmp_path):
    class Plain(_PhasedModel):
        def __init__(self):
            super().__init__()
            del self.train_phase

    runner = Runner(
        model=Plain(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=_Toy(), batch_size=2,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(type='TwoPassEpochBasedTrainLoop', max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=None), default_scope='mmaction')
    with pytest.raises(TypeError, match='train_phase'):
        runner.train()
