"""The parts of staged KD that are not losses: the progressive cascade and the pseudo-label bank.

Staged KD (Wang & Tang, IEEE T-CSVT 34(8), 2024, arXiv 2307.05201) is known from its abstract
only; what each part does in detail is our reading (``docs/recognition_kd.md``).
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_world_size

CASCADE_MODES = ('cumulative', 'single')
PSEUDO_LABEL_SOURCES = ('teacher', 'ensemble')


class CascadeSchedule:
    """Which substages are distilled in an epoch: the progressive cascade.

    Substage ``k`` joins at epoch ``stage_epochs[k]`` (0-based, non-decreasing). In
    ``'cumulative'`` mode a substage stays once it has joined (stage 0, then 0-1, then 0-1-2:
    the student is built up from its input side); in ``'single'`` mode only the newest joined
    substage is distilled.

    Args:
        stage_epochs: First epoch of each substage.
        mode: One of :data:`CASCADE_MODES`.
    """

    def __init__(self, stage_epochs: Sequence[int], mode: str = 'cumulative') -> None:
        if mode not in CASCADE_MODES:
            raise ValueError(f'cascade mode must be one of {CASCADE_MODES}, got {mode!r}')
        epochs = [int(e) for e in stage_epochs]
        if not epochs or any(b < a for a, b in zip(epochs, epochs[1:])) or epochs[0] < 0:
            raise ValueError(f'stage_epochs must be non-negative and non-decreasing, got '
                             f'{list(stage_epochs)}')
        self.stage_epochs, self.mode = epochs, mode

    @property
    def num_stages(self) -> int:
        return len(self.stage_epochs)

    def active(self, epoch: int) -> List[int]:
        """Indices of the substages distilled in the 0-based ``epoch`` (in cascade order)."""
        joined = [k for k, start in enumerate(self.stage_epochs) if epoch >= start]
        if self.mode == 'single':
            return joined[-1:]
        return joined


def gather_rows(*tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Each tensor ``[n, ...]`` with the rows of every process concatenated in rank order
    (``[sum of n, ...]``; the processes may hold different ``n``); the tensors themselves
    outside distributed training. Every process must call it (a collective)."""
    if get_world_size() == 1:
        return tensors
    first = tensors[0]
    counts = [int(n) for n in all_gather(torch.tensor([len(first)], device=first.device))]
    most = max(counts)
    gathered = []
    for tensor in tensors:
        padded = tensor.new_zeros((most, *tensor.shape[1:]))
        padded[:len(tensor)] = tensor
        parts = all_gather(padded)
        gathered.append(torch.cat([part[:n] for part, n in zip(parts, counts)]))
    return tuple(gathered)


class PseudoLabelBank(nn.Module):
    """Soft labels of every training sample, refined during training from weak initial labels.

    A sample's label starts as the one-hot of its (possibly wrong) annotated label the first time
    it is seen. From ``start_epoch`` on, each time the sample is in a batch its label moves
    towards the distribution ``q`` of the teacher (``'teacher'``: ``softmax(t / T)``) or of
    teacher and student together (``'ensemble'``: the mean of both softmaxes):
    ``y <- (1 - momentum) * y + momentum * q``. The labels are buffers (saved in checkpoints).

    In distributed training every process holds the whole bank: each first sighting and each
    update is gathered from all processes (:func:`gather_rows`) and applied on each, so the banks
    stay equal and equal to the bank of one process that sees the same global batches. The
    owner should keep the buffers out of DDP's buffer broadcast (:meth:`buffer_names`), which
    would otherwise copy rank 0's bank (``num_samples x num_classes``) to every process at every
    forward.

    Args:
        num_samples: Samples of the training set (indices are ``sample_idx``).
        num_classes: Classes.
        momentum: Step of each update.
        start_epoch: First 0-based epoch of updates (the teacher is trusted from the start; the
            student in ``'ensemble'`` mode should have learnt something first).
        source: One of :data:`PSEUDO_LABEL_SOURCES`.
        temperature: Softmax temperature of the predictions.
    """

    def __init__(self, num_samples: int, num_classes: int, momentum: float = 0.1,
                 start_epoch: int = 0, source: str = 'teacher',
                 temperature: float = 1.0) -> None:
        super().__init__()
        if source not in PSEUDO_LABEL_SOURCES:
            raise ValueError(f'pseudo-label source must be one of {PSEUDO_LABEL_SOURCES}, got '
                             f'{source!r}')
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must lie in [0, 1], got {momentum}')
        self.num_samples, self.num_classes = num_samples, num_classes
        self.momentum, self.start_epoch = momentum, start_epoch
        self.source, self.temperature = source, temperature
        self.register_buffer('labels', torch.zeros(num_samples, num_classes))
        self.register_buffer('seen', torch.zeros(num_samples, dtype=torch.bool))

    def buffer_names(self, prefix: str) -> List[str]:
        """Full names of the bank's buffers in a model that holds it as ``prefix``."""
        return [f'{prefix}.{name}' for name, _ in self.named_buffers()]

    def _check(self, indices: torch.Tensor) -> None:
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.num_samples):
            raise IndexError(f'sample index {int(indices.max())} is outside the pseudo-label '
                             f'bank of {self.num_samples} samples: set '
                             'pseudo_label.num_samples to the size of the training set')

    def targets(self, indices: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Current soft labels ``[B, num_classes]`` of samples ``indices [B]`` whose annotated
        labels are ``labels [B]`` (used for samples seen for the first time; in distributed
        training the first sightings of every process are recorded)."""
        self._check(indices)
        indices, labels = indices.to(self.labels.device), labels.to(self.labels.device)
        every_index, every_label = gather_rows(indices, labels)
        new = ~self.seen[every_index]
        if new.any():
            self.labels[every_index[new]] = F.one_hot(every_label[new], self.num_classes).to(
                self.labels)
            self.seen[every_index[new]] = True
        return self.labels[indices].clone()

    @torch.no_grad()
    def update(self, indices: torch.Tensor, teacher_logits: torch.Tensor,
               student_logits: torch.Tensor, epoch: int) -> None:
        """Move the labels of ``indices [B]`` towards the predictions ``[B, num_classes]``
        (nothing before ``start_epoch``); in distributed training every process's rows move."""
        if epoch < self.start_epoch:
            return
        self._check(indices)
        indices = indices.to(self.labels.device)
        q = F.softmax(teacher_logits.detach().to(self.labels) / self.temperature, dim=-1)
        if self.source == 'ensemble':
            q = 0.5 * (q + F.softmax(student_logits.detach().to(self.labels) / self.temperature,
                                     dim=-1))
        indices, q = gather_rows(indices, q)
        m = self.momentum
        self.labels[indices] = (1 - m) * self.labels[indices] + m * q
