"""Fixes for the PyPI releases of the pinned stack, applied by ``import mmemtm``.

1. ``mmaction2==1.2.0`` on PyPI lacks ``mmaction/models/localizers/drn``, yet
   ``mmaction/models/localizers/__init__.py`` imports it, so ``import mmaction.models`` fails and
   mmengine registers only part of mmaction's models. A placeholder module is installed in its place
   (only when the real one is missing); building ``type='DRN'`` then raises a clear error.
2. ``torch>=2.6`` loads checkpoints with ``weights_only=True``, but mmengine 0.10.7 checkpoints hold
   mmengine and numpy objects (the message hub's ``HistoryBuffer`` logs, NumPy's random state),
   so ``tools/test.py CKPT``, ``--resume`` and ``load_from`` fail. mmengine's loader for local
   paths is replaced by :func:`load_local_checkpoint`: still ``weights_only=True``, with the few
   globals of :func:`checkpoint_safe_globals` allowed, so a checkpoint file cannot run code; any
   other global is refused with :class:`CheckpointTrustError`. Full unpickling only happens inside
   :func:`trusted_checkpoints` (``--trust-checkpoint`` of the tools, ``trust_checkpoint=True`` of
   ``init_grounder``). Remote schemes (``http://`` ...) keep mmengine's behaviour.
3. ``pkg_resources`` (used by mmengine's ``mmaction::`` config inheritance and by mim) is gone from
   ``setuptools>=82``; the requirement files pin ``setuptools<82`` and :func:`check_pkg_resources`
   turns its absence into an actionable error.
4. mmengine's ``--launcher pytorch`` calls ``torch.cuda.set_device`` unconditionally, which fails
   on a CPU build of torch; without CUDA the process group is now initialised without it, so
   several CPU processes can train with the gloo backend (the model wrapper
   ``DeviceAwareDistributedDataParallel`` handles the CPU side of DDP).
5. ``mmaction2==1.2.0`` imports its VindLU models whenever ``transformers>=4.28`` is installed
   (``mmaction.utils.dependency.WITH_MULTIMODAL``), and they need ``timm``, which mmemtm does not
   use: with ``transformers`` (pinned for CLIP feature extraction) but no ``timm``,
   ``import mmaction.models`` would fail. Without ``timm`` the VindLU models are registered as
   mmaction's placeholders instead (:func:`disable_multimodal_without_timm`), as mmaction does
   without ``transformers``; building one raises mmaction's install hint.
6. mmengine reads ``.yaml``/``.yml`` files (configs given to ``tools/*.py``, ``mmengine.load``)
   with PyYAML's full ``Loader``, so a tag such as ``!!python/object/apply:os.system [...]`` in a
   YAML config runs code while the config is read. They are read with the safe loader instead
   (:func:`install_safe_yaml`: plain mappings, lists, strings and numbers); a Python tag is
   refused with :class:`ConfigFileError`, which names the config file.
"""
import contextlib
import importlib.util
import logging
import os.path as osp
import pickle
import re
import sys
import types
import warnings
from typing import Any, Iterator, List, Optional, Tuple

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


class ConfigFileError(ValueError):
    """A config file cannot be read (here: a YAML config holding a tag the safe loader refuses,
    such as ``!!python/object/apply``); the message names the file."""


_YAML: dict = {}


def _safe_yaml_load_from_fileobj(self: Any, file: Any, **kwargs: Any) -> Any:
    """mmengine's ``YamlHandler.load_from_fileobj`` with PyYAML's safe loader by default."""
    import yaml
    kwargs.setdefault('Loader', getattr(yaml, 'CSafeLoader', yaml.SafeLoader))
    return yaml.load(file, **kwargs)


def _yaml_problem(exc: Exception) -> str:
    problem = getattr(exc, 'problem', None) or str(exc)
    mark = getattr(exc, 'problem_mark', None)
    where = f' (line {mark.line + 1}, column {mark.column + 1})' if mark is not None else ''
    return f'{problem}{where}'


def install_safe_yaml() -> None:
    """Make mmengine read YAML files with the safe loader, and YAML errors of a config name
    the config (mmengine parses a temporary copy of it)."""
    from mmengine.config import Config
    from mmengine.fileio.handlers import YamlHandler

    YamlHandler.load_from_fileobj = _safe_yaml_load_from_fileobj
    if 'file2dict' in _YAML:
        return
    original = _YAML['file2dict'] = Config._file2dict

    def _file2dict(filename: str, *args: Any, **kwargs: Any) -> Any:
        import yaml
        try:
            return original(filename, *args, **kwargs)
        except yaml.YAMLError as exc:
            hint = (' (YAML configs are read with the safe loader: Python tags such as '
                    '!!python/object are refused, as they would run code)'
                    if 'constructor' in str(exc) else '')
            raise ConfigFileError(f'config {filename}: cannot read it as YAML: '
                                  f'{_yaml_problem(exc)}{hint}') from None

    Config._file2dict = staticmethod(_file2dict)


class CheckpointReadError(RuntimeError):
    """A checkpoint file exists but cannot be unpickled; the message names the file."""


class CheckpointTrustError(CheckpointReadError):
    """A checkpoint holds a global outside the allowlist (it could run code when unpickled); the
    message names the file, the global and how to trust the file."""


#: Methods of ``HistoryBuffer`` that its pickled state refers to as ``getattr(HistoryBuffer, m)``.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
#: Parts of torch's refusal messages that name the offending global, function or type.
_REFUSAL_PATTERNS = (r'GLOBAL (\S+)', r'unrecognized function (.+?)(?: which belongs|$)',
                     r'but got (<class [^>]+>)')
_TRUST = {'checkpoints': False}


def _history_buffer_statistic(owner: Any, name: str) -> Any:
    """``getattr`` restricted to the one use in mmengine checkpoints: ``HistoryBuffer`` pickles
    its statistics methods as ``getattr(HistoryBuffer, 'min')`` and so on."""
    from mmengine.logging import HistoryBuffer

    if owner is not HistoryBuffer or name not in HISTORY_BUFFER_STATISTICS:
        raise pickle.UnpicklingError(
            f'GLOBAL builtins.getattr is allowed only as getattr(HistoryBuffer, one of '
            f'{HISTORY_BUFFER_STATISTICS}), got getattr({owner!r}, {name!r})')
    return getattr(owner, name)


def checkpoint_safe_globals() -> List[Tuple[Any, str]]:
    """``(object, name in the pickle)`` of every global allowed in a checkpoint besides torch's
    defaults (tensors, plain containers): exactly what mmengine/mmemtm training checkpoints hold."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from numpy._core import multiarray

    return [
        # message_hub: every logged scalar is a HistoryBuffer of numpy arrays (float64 values,
        # int64 counts) that refers to its statistics methods through getattr
        (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
        (_history_buffer_statistic, 'builtins.getattr'),
        (multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (np.ndarray, 'numpy.ndarray'),
        (np.dtype, 'numpy.dtype'),
        (np.dtypes.Float64DType, 'numpy.dtypes.Float64DType'),
        (np.dtypes.Int64DType, 'numpy.dtypes.Int64DType'),
        # message_hub runtime info: numpy scalars (e.g. the ETA)
        (multiarray.scalar, 'numpy._core.multiarray.scalar'),
        # random_states (RandomStateHook): NumPy's MT19937 key is a uint32 array
        (np.dtypes.UInt32DType, 'numpy.dtypes.UInt32DType'),
    ]


@contextlib.contextmanager
def trusted_checkpoints(enabled: bool = True) -> Iterator[None]:
    """Within the block, local checkpoints are fully unpickled (``weights_only=False``), with a
    warning per file: a trusted file may hold any object, and may run any code.

    Args:
        enabled: False makes the block a no-op (for ``with trusted_checkpoints(args.flag)``).
    """
    previous = _TRUST['checkpoints']
    _TRUST['checkpoints'] = previous or enabled
    try:
        yield
    finally:
        _TRUST['checkpoints'] = previous


def _refused_global(exc: pickle.UnpicklingError) -> Optional[Tuple[str, str]]:
    """``(global, torch's reason)`` when ``exc`` is a refusal of the weights-only unpickler."""
    for line in str(exc).splitlines():
        for pattern in _REFUSAL_PATTERNS:
            match = re.search(pattern, line)
            if match:
                name = match.group(1)
                if pattern == _REFUSAL_PATTERNS[0] and '.' not in name:
                    name = f'builtins.{name}'  # torch drops the module of builtins
                return name, line.split(' Please use')[0].strip()
    return None


def _trust_error(filename: str, name: str, reason: str) -> CheckpointTrustError:
    return CheckpointTrustError(
        f'checkpoint {filename} was refused: it needs {name}, which is not among the globals '
        'mmemtm allows in checkpoints (unpickling it could run code). If you made the file or '
        'trust its source, load it fully with --trust-checkpoint (tools/train.py, test.py, '
        'demo.py, dump_teacher_curves.py), init_grounder(..., trust_checkpoint=True) or inside '
        f'mmemtm.compat.trusted_checkpoints(). torch: {reason}')


def _read_error(filename: str, exc: Exception) -> CheckpointReadError:
    return CheckpointReadError(f'checkpoint {filename} is not a readable torch checkpoint '
                               f'(truncated or another kind of file?): {type(exc).__name__}: '
                               f'{exc}')


def _torch_load(filename: str, map_location: Optional[Any], trusted: bool) -> Any:
    import torch

    if trusted:
        from mmengine.logging import print_log
        print_log(f'checkpoint {filename} is fully unpickled (trusted): it can run any code',
                  logger='current', level=logging.WARNING)
        return torch.load(filename, map_location=map_location, weights_only=False)
    with torch.serialization.safe_globals(checkpoint_safe_globals()):
        return torch.load(filename, map_location=map_location, weights_only=True)


def load_local_checkpoint(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with ``weights_only=True`` and :func:`checkpoint_safe_globals`, or
    fully inside :func:`trusted_checkpoints`.

    Args:
        filename: Path of the checkpoint file.
        map_location: Same as :func:`torch.load`.

    Raises:
        CheckpointTrustError: The file holds another global (naming it).
        CheckpointReadError: The file is no readable checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    trusted = _TRUST['checkpoints']
    try:
        return _torch_load(filename, map_location, trusted)
    except pickle.UnpicklingError as exc:
        refused = None if trusted else _refused_global(exc)
        if refused is not None:
            raise _trust_error(filename, *refused) from None
        raise _read_error(filename, exc) from exc
    except (EOFError, RuntimeError, ValueError, KeyError) as exc:
        raise _read_error(filename, exc) from exc


def install_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints with :func:`load_local_checkpoint`."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


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


def disable_multimodal_without_timm() -> bool:
    """Let ``import mmaction.models`` skip the VindLU models when ``timm`` is missing.

    Returns:
        bool: True when mmaction's multimodal switch was turned off here.
    """
    if importlib.util.find_spec('timm') is not None:
        return False
    if 'mmaction.models.multimodal' in sys.modules:
        return False
    import mmaction.utils.dependency as dependency
    if not dependency.WITH_MULTIMODAL:
        return False
    dependency.WITH_MULTIMODAL = False
    return True


def apply_compat_fixes() -> None:
    """Apply all fixes; safe to call more than once."""
    silence_mmcv_lite_warning()
    check_pkg_resources()
    disable_multimodal_without_timm()
    install_drn_placeholder()
    install_checkpoint_loader()
    install_cpu_launcher()
    install_safe_yaml()
