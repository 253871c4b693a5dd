"""What every recognition distiller shares: an MMAction2 student recognizer trained beside a
frozen teacher recognizer loaded from a checkpoint."""
import contextlib
from abc import abstractmethod
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint


def current_epoch() -> int:
    """The 0-based training epoch (mmengine's ``RuntimeInfoHook`` keeps it in the message hub;
    0 outside a runner)."""
    return int(MessageHub.get_current_instance().get_info('epoch', 0) or 0)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Within the block, ``module``'s parameters need no gradient (a graph built here gives them
    none); their previous ``requires_grad`` flags are restored afterwards."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


class FeatureTaps:
    """Records the outputs of named submodules during forward passes (a context manager).

    Args:
        model: The network.
        names: Dotted submodule names (``'backbone.mixed_4f'``).
        owner: Name of the network in error messages (``'student'``).
    """

    def __init__(self, model: nn.Module, names: Sequence[str], owner: str = 'model') -> None:
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            sample = ', '.join(n for n in list(modules)[1:40] if n.count('.') <= 1)
            raise KeyError(f'{owner} has no submodule {missing}; its modules include {sample}')
        self.modules = [(n, modules[n]) for n in names]
        self.outputs: Dict[str, torch.Tensor] = {}
        self._handles: List = []

    def __enter__(self) -> Dict[str, torch.Tensor]:
        self.outputs.clear()
        for name, module in self.modules:
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self.outputs

    def _hook(self, name: str):
        def record(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            self.outputs[name] = output
        return record

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


class RecognizerDistiller(BaseModel):
    """A student recognizer (``Recognizer3D``/``Recognizer2D`` or any mmaction recognizer) and a
    frozen teacher recognizer.

    The teacher's weights come from ``teacher_ckpt`` (read in :meth:`init_weights` through
    mmengine's checkpoint loader, i.e. weights only for local files) and never change: its
    parameters need no gradient and it stays in eval mode. Both networks see the same
    preprocessed inputs (the distiller's data preprocessor, by default the student's).
    ``predict`` and ``tensor`` run the student alone; ``tools/strip_distiller_checkpoint.py``
    keeps the student's weights only.

    Args:
        student: Config of the student recognizer.
        teacher: Config of the teacher recognizer.
        teacher_ckpt: Checkpoint of the teacher (a checkpoint of the teacher config's model).
            None leaves the teacher as built (for tests), with a warning.
        data_preprocessor: Config of the data preprocessor (default: the student's).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, student: dict, teacher: dict, teacher_ckpt: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = student.get('data_preprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(student)
        # the random state a student built alone would initialise its weights from
        self._student_init_rng = torch.get_rng_state()
        self.teacher = MODELS.build(teacher)
        self.teacher_ckpt = teacher_ckpt
        self.teacher.requires_grad_(False)
        self.teacher.eval()

    def init_weights(self) -> None:
        """Initialise the student from the random state right after its construction (so a seed
        gives it the same weights as the student trained alone: paired comparisons), then the
        other parts; then load the teacher's checkpoint (strictly)."""
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self._student_init_rng)
            self.student.init_weights()
        super().init_weights()
        if self.teacher_ckpt is None:
            print_log(f'{type(self).__name__}: teacher_ckpt is None, the teacher keeps its '
                      'initial weights', logger='current', level=30)
            return
        load_checkpoint(self.teacher, self.teacher_ckpt, map_location='cpu', strict=True)

    def train(self, mode: bool = True) -> 'RecognizerDistiller':
        """Set the mode of everything but the teacher, which stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, inputs: torch.Tensor, data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """``'loss'``: the distillation losses; ``'predict'`` and ``'tensor'``: the student's."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode in ('predict', 'tensor'):
            return self.student(inputs, data_samples, mode=mode)
        raise RuntimeError(f'Invalid mode "{mode}": use loss, predict or tensor')

    @abstractmethod
    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        """The distiller's training losses of a preprocessed batch."""

    def student_logits(self, inputs: torch.Tensor, data_samples: list
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The student's logits ``[N, num_classes]`` and backbone (or neck) features."""
        feats, kwargs = self.student.extract_feat(inputs, data_samples=data_samples)
        return self.student.cls_head(feats, **kwargs), feats

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's logits ``[N, num_classes]`` (no gradient)."""
        scores, _ = self.teacher.extract_feat(inputs, stage='head')
        return scores
