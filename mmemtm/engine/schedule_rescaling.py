"""Rescaling a config's epoch-based schedule to another number of epochs.

Warm-ups keep their length; everything after them stretches (or shrinks) to the new end. A
*warm-up* is an epoch-based ``param_scheduler`` phase that starts at epoch 0 and ends before
``train_cfg.max_epochs``; the warm-up span ``[0, W)`` ends where the last warm-up ends (``W = 0``
without one). An epoch ``t`` of the old schedule maps to

* ``t`` for ``t <= W`` (inside the warm-up span),
* ``W + (t - W) * (new - W) / (old - W)`` after it (rounded to a whole epoch),

so a decay that ended with training ends with the new run, and the epoch-valued settings of a
phase (``T_max`` of a cosine, ``milestones`` and ``step_size`` of step schedules) move with it.
Phases counted in iterations (``by_epoch=False``) do not depend on the number of epochs and are
kept as they are; epoch-based phases converted to iterations (``convert_to_iter_based``) are
rescaled in epochs, before mmengine converts them.
"""
from typing import List, Optional

from mmengine.config import Config, ConfigDict

#: Phase settings counted in epochs relative to the phase's ``begin`` (mmengine's schedulers).
RELATIVE_EPOCHS = ('T_max', 'step_size')


class EpochMap:
    """The map from epochs of the old schedule to epochs of the new one (see the module).

    Args:
        old: Old number of epochs.
        new: New number of epochs.
        warm_up: End ``W`` of the warm-up span, in epochs (``0 <= W < old``).
    """

    def __init__(self, old: int, new: int, warm_up: int) -> None:
        self.old, self.new, self.warm_up = old, new, warm_up

    def __call__(self, epoch: float) -> int:
        if epoch <= self.warm_up:
            return int(round(epoch))
        scale = (self.new - self.warm_up) / (self.old - self.warm_up)
        return int(round(self.warm_up + (epoch - self.warm_up) * scale))


def is_warm_up(phase: dict, epochs: int) -> bool:
    """Whether an epoch-based ``phase`` starts at epoch 0 and ends before ``epochs``."""
    return phase.get('begin', 0) == 0 and phase.get('end', epochs) < epochs


def rescale_phase(phase: dict, epochs: EpochMap) -> Optional[dict]:
    """``phase`` on the new schedule (None: it would start after the new run ends).

    A warm-up keeps its end (cut at the new run's end); any other phase maps ``begin``,
    ``end`` and its epoch-valued settings through ``epochs``; a phase without ``end`` still
    lasts until training ends.
    """
    phase = ConfigDict(phase)
    old_begin, old_end = phase.get('begin', 0), phase.get('end')
    begin = epochs(old_begin)
    if begin >= epochs.new:
        return None
    if is_warm_up(phase, epochs.old):
        phase['end'] = min(old_end, epochs.new)
        return phase
    if 'begin' in phase:
        phase['begin'] = begin
    if old_end is not None:
        phase['end'] = max(epochs(old_end), begin + 1)
    for key in RELATIVE_EPOCHS:
        if phase.get(key) is not None:
            phase[key] = max(1, epochs(old_begin + phase[key]) - begin)
    if phase.get('milestones') is not None:
        phase['milestones'] = [epochs(old_begin + m) - begin for m in phase['milestones']]
    return phase


def rescale_schedule(phases: List[dict], old: int, new: int) -> List[dict]:
    """``param_scheduler`` phases of an ``old``-epoch run rescaled to ``new`` epochs (the rule
    of the module); phases that would start after the new run ends are dropped."""
    by_epoch = [p for p in phases if p.get('by_epoch', True)]
    warm_up = max([p['end'] for p in by_epoch if is_warm_up(p, old)], default=0)
    epochs = EpochMap(old, new, warm_up)
    rescaled = []
    for phase in phases:
        phase = rescale_phase(phase, epochs) if phase.get('by_epoch', True) else phase
        if phase is not None:
            rescaled.append(phase)
    return rescaled


def set_epochs(cfg: Config, epochs: int, validate: bool = True) -> None:
    """Train ``cfg`` for ``epochs`` epochs, rescaling its own schedule.

    ``train_cfg.max_epochs`` becomes ``epochs``; every ``param_scheduler`` phase is rescaled
    by :func:`rescale_schedule` (warm-ups keep their length, the rest stretches to the new end);
    the validation interval and first validated epoch are cut at ``epochs``, so the run
    validates at least once.

    Args:
        cfg: Config of an epoch-based run (``train_cfg.max_epochs``).
        epochs: New number of epochs (``>= 1``).
        validate: Whether to validate (False: never, the interval is past the end).
    """
    if epochs < 1:
        raise ValueError(f'a run needs at least one epoch, got {epochs}')
    if 'max_epochs' not in cfg.train_cfg:
        raise ValueError('set_epochs rescales epoch-based runs; train_cfg has no max_epochs')
    old = cfg.train_cfg.max_epochs
    cfg.train_cfg.max_epochs = epochs
    if validate:
        cfg.train_cfg.val_interval = min(cfg.train_cfg.get('val_interval', 1), epochs)
        if 'val_begin' in cfg.train_cfg:
            cfg.train_cfg.val_begin = min(cfg.train_cfg.val_begin, epochs)
    else:
        cfg.train_cfg.val_interval = epochs + 1
    cfg.param_scheduler = rescale_schedule(list(cfg.get('param_scheduler') or []), old, epochs)
