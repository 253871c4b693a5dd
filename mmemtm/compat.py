"""Fixes for the PyPI releases of the pinned stack, applied by ``import mmemtm``.

1. ``mmaction2==1.2.0`` on PyPI lacks ``mmaction/models/localizers/drn``, yet
   ``mmaction/models/localizers/__init__.py`` imports it, so ``import mmaction.models`` fails and
   mmengine registers only part of mmaction's models. A placeholder module is installed in its place
   (only when the real one is missing); building ``type='DRN'`` then raises a clear error.
2. ``torch>=2.6`` loads checkpoints with ``weights_only=True``, but mmengine 0.10.7 checkpoints hold
   mmengine objects (``HistoryBuffer``, ``ConfigDict``...), so ``tools/test.py CKPT``, ``--resume``
   and ``load_from`` fail. mmengine's loader for local paths is replaced by one that unpickles the
   full checkpoint. **Local checkpoint files are trusted**: only load checkpoints you made or got
   from a source you trust, exactly as with any pickle. Remote schemes (``http://`` ...) keep
   mmengine's behaviour.
3. ``pkg_resources`` (used by mmengine's ``mmaction::`` config inheritance and by mim) is gone from
   ``setuptools>=82``; the requirement files pin ``setuptools<82`` and :func:`check_pkg_resources`
   turns its absence into an actionable error.
4. mmengine's ``--launcher pytorch`` calls ``torch.cuda.set_device`` unconditionally, which fails
   on a CPU build of torch; without CUDA the process group is now initialised without it, so
   several CPU processes can train with the gloo backend (the model wrapper
   ``DeviceAwareDistributedDataParallel`` handles the CPU side of DDP).
"""
import importlib.util
import os.path as osp
import pickle
import sys
import types
import warnings
from typing import Any, Optional

DRN_MODULE = 'mmaction.models.localizers.drn'


class MissingDRN:
    """Placeholder for mmaction's DRN localizer, which the PyPI wheel does not ship."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            'DRN is not available: the mmaction2 1.2.0 release on PyPI does not contain '
            f'{DRN_MODULE!r}. Install mmaction2 from source to use it.')


def _drn_is_missing() -> bool:
    if DRN_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return False
    drn_dir = osp.join(osp.dirname(spec.origin), 'models', 'localizers', 'drn')
    return not osp.isdir(drn_dir)


def install_drn_placeholder() -> bool:
    """Install placeholder modules for the missing DRN package.

    Returns:
        bool: True when the placeholder was installed, False when the real module exists.
    """
    if not _drn_is_missing():
        return False
    package = types.ModuleType(DRN_MODULE)
    package.__path__ = []
    module = types.ModuleType(f'{DRN_MODULE}.drn')
    module.DRN = MissingDRN
    package.drn = module
    sys.modules[DRN_MODULE] = package
    sys.modules[f'{DRN_MODULE}.drn'] = module
    from mmaction.registry import MODELS
    MODELS.register_module(name='DRN', module=MissingDRN, force=True)
    return True


class CheckpointReadError(RuntimeError):
    """A checkpoint file exists but cannot be unpickled; the message names the file."""


def load_trusted_local_checkpoint(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a local mmengine checkpoint with full unpickling (the file is trusted).

    Args:
        filename: Path of the checkpoint file.
        map_location: Same as :func:`torch.load`.
    """
    import torch

    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError) as exc:
        raise CheckpointReadError(f'checkpoint {filename} is not a readable torch checkpoint '
                                  f'(truncated or another kind of file?): {type(exc).__name__}: '
                                  f'{exc}') from exc


def install_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints with ``weights_only=False``."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes='', loader=load_trusted_local_checkpoint, force=True)


def check_pkg_resources() -> None:
    """Raise a clear error when ``pkg_resources`` (setuptools<82) is not installed."""
    if importlib.util.find_spec('pkg_resources') is None:
        raise ImportError(
            'pkg_resources is missing: mmengine and openmim need setuptools<82. '
            'Run `pip install "setuptools<82"` (requirements/runtime.txt pins it).')


def _init_dist_pytorch_cpu_aware(backend: str, init_backend: str = 'torch', **kwargs) -> None:
    import torch
    import torch.distributed as torch_dist

    if torch.cuda.is_available() or init_backend != 'torch':
        _ORIGINAL_INIT['pytorch'](backend, init_backend=init_backend, **kwargs)
        return
    torch_dist.init_process_group(backend=backend, **kwargs)


_ORIGINAL_INIT: dict = {}


def install_cpu_launcher() -> None:
    """Let mmengine's pytorch launcher initialise a process group on machines without CUDA."""
    import mmengine.dist.utils as dist_utils

    if 'pytorch' not in _ORIGINAL_INIT:
        _ORIGINAL_INIT['pytorch'] = dist_utils._init_dist_pytorch
        dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware


def silence_mmcv_lite_warning() -> None:
    """Hide mmcv-lite's warning about compiled ops that mmemtm never uses."""
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')


def apply_compat_fixes() -> None:
    """Apply all fixes; safe to call more than once."""
    silence_mmcv_lite_warning()
    check_pkg_resources()
    install_drn_placeholder()
    install_checkpoint_loader()
    install_cpu_launcher()
