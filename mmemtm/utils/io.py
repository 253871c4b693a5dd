"""File helpers: every file mmemtm writes is written to a temporary file and renamed into place."""
import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'w', **open_kwargs: Any) -> Iterator[Any]:
    """Open a temporary file next to ``path``; rename it to ``path`` only if the block succeeds.

    A failure inside the block leaves any existing ``path`` untouched and no partial file behind.
    """
    path = osp.abspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_path)
        raise


def dump_json_atomic(obj: Any, path: str, **json_kwargs: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    with atomic_write(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, **json_kwargs)


def save_npy_atomic(array: np.ndarray, path: str) -> None:
    """Write ``array`` as ``.npy`` to ``path`` atomically."""
    with atomic_write(path, 'wb') as f:
        np.save(f, array)
