"""From a trained recognition distiller to the student alone: its weights and its config."""
import copy
import os.path as osp
from typing import Dict, Optional

import torch
from mmengine.config import Config

from mmemtm.compat import load_local_checkpoint
from mmemtm.utils import atomic_write

#: Training loops and optimiser constructors of distillers, and what the student alone uses.
DISTILLER_LOOPS = ('TwoPassEpochBasedTrainLoop', )
PARTS_CONSTRUCTOR = 'PartsOptimWrapperConstructor'


class DistillerCheckpointError(ValueError):
    """A checkpoint or config is not one of a distiller; the message names the file."""


def student_state_dict(state_dict: Dict[str, torch.Tensor], prefix: str = 'student.',
                       source: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """The entries under ``prefix`` with the prefix removed (teacher, CVAE, pseudo labels and
    other training-only parts dropped)."""
    kept = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not kept:
        heads = sorted({k.split('.', 1)[0] for k in state_dict})
        raise DistillerCheckpointError(f'{source} has no weights under {prefix!r} (its top-level '
                                       f'names: {heads}); is it a distiller checkpoint?')
    return kept


def strip_distiller_checkpoint(src: str, dst: str, prefix: str = 'student.') -> Dict[str, int]:
    """Write the student's weights of distiller checkpoint ``src`` to ``dst`` (atomically) as an
    mmengine checkpoint ``{'state_dict', 'meta'}`` that loads into the student config's model.

    ``src`` is read by :func:`mmemtm.compat.load_local_checkpoint` (weights only, unless inside
    :func:`mmemtm.compat.trusted_checkpoints`).

    Returns:
        dict: ``kept`` and ``dropped`` numbers of tensors.
    """
    checkpoint = load_local_checkpoint(src, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise DistillerCheckpointError(f'{src} holds no state dict')
    kept = student_state_dict(state, prefix, src)
    meta = {k: v for k, v in checkpoint.get('meta', {}).items()
            if k in ('epoch', 'iter', 'seed', 'experiment_name', 'mmengine_version')}
    meta.update(stripped_from=osp.basename(src), stripped_prefix=prefix)
    with atomic_write(dst, 'wb') as f:
        torch.save(dict(state_dict=kept, meta=meta), f)
    return dict(kept=len(kept), dropped=len(state) - len(kept))


def student_config(cfg: Config, source: str = 'config') -> Config:
    """The distiller config ``cfg`` turned into the student alone's: ``model`` is
    ``model.student``, a two-pass loop becomes mmengine's ``EpochBasedTrainLoop``, and a
    per-part optimiser keeps its ``student`` part."""
    model = cfg.get('model', {})
    if 'student' not in model:
        raise DistillerCheckpointError(f'{source}: model has no student (type '
                                       f'{model.get("type")!r})')
    out = copy.deepcopy(cfg)
    out.model = copy.deepcopy(model['student'])
    train_cfg = out.get('train_cfg')
    if train_cfg is not None and train_cfg.get('type') in DISTILLER_LOOPS:
        out.train_cfg = {k: v for k, v in train_cfg.items() if k != 'phases'}
        out.train_cfg['type'] = 'EpochBasedTrainLoop'
    optim = out.get('optim_wrapper')
    if optim is not None and optim.get('constructor') == PARTS_CONSTRUCTOR:
        if 'student' not in optim:
            raise DistillerCheckpointError(f'{source}: optim_wrapper has no student part')
        out.optim_wrapper = copy.deepcopy(optim['student'])
    out.load_from = None
    return out


def write_student_config(config: str, out: str, work_dir: Optional[str] = None) -> Config:
    """Write :func:`student_config` of the config file ``config`` to ``out`` (atomically)."""
    cfg = student_config(Config.fromfile(config), config)
    if work_dir is not None:
        cfg.work_dir = work_dir
    with atomic_write(out) as f:
        f.write(cfg.pretty_text)
    return cfg
