"""File helpers: every file mmemtm writes is written to a temporary file and renamed into place.

Temporary files are named ``.<name>.mmemtm-<host>-<pid>-<random>.tmp`` next to their target (a
long ``<name>`` is shortened to its start and a hash, so any name that fits its folder has a
temporary file that fits too). A
writer that is killed (``SIGKILL``, power loss) cannot remove its own; the next atomic write into
the same folder removes those whose process is gone (:func:`remove_stale_temporaries`).
"""
import contextlib
import errno
import hashlib
import json
import os
import os.path as osp
import re
import socket
import tempfile
from typing import Any, Iterator, List

import numpy as np

_HOST = re.sub(r'[^A-Za-z0-9_]', '_', socket.gethostname()) or 'host'
_TEMPORARY = re.compile(r'^\..+\.mmemtm-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[^.]+\.tmp$')


#: Bytes of a target's name kept in its temporary file's name; longer names are shortened.
TEMPORARY_NAME_BYTES = 100


def _temporary_stem(name: str) -> str:
    """``name``, or its first characters and a hash of it when it is longer than
    :data:`TEMPORARY_NAME_BYTES` bytes (file names are limited to 255 bytes)."""
    if len(name.encode('utf-8')) <= TEMPORARY_NAME_BYTES:
        return name
    digest = hashlib.sha1(name.encode('utf-8')).hexdigest()[:16]
    start = name.encode('utf-8')[:TEMPORARY_NAME_BYTES - 17].decode('utf-8', 'ignore')
    return f'{start}~{digest}'


class AtomicWriteError(OSError):
    """Writing a file failed (often a full disk); the target was left as it was."""


class LinkedFileError(OSError):
    """A file that mmemtm writes in place (a lock, a log) is a link: writing it would change the
    file the link points to, so it is refused."""


def linked_file_error(path: str, kind: str, what: str) -> LinkedFileError:
    """The error for ``path`` (``what``: e.g. ``'lock file'``), a ``kind`` (symbolic or hard)
    link."""
    target = f' to {os.path.realpath(path)}' if kind == 'symbolic' else ''
    return LinkedFileError(
        f'{path} is a {kind} link{target}; mmemtm does not write its {what} through a link (it '
        f'would overwrite the file the link points to): remove it and start again')


def refuse_link(path: str, what: str) -> None:
    """Raise :class:`LinkedFileError` if ``path`` is a symbolic link, or a file with another
    hard link (for files written in place, such as logs; atomic writes replace links)."""
    if osp.islink(path):
        raise linked_file_error(path, 'symbolic', what)
    with contextlib.suppress(FileNotFoundError):
        info = os.stat(path)
        if not osp.isdir(path) and info.st_nlink > 1:
            raise linked_file_error(path, 'hard', what)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str) -> List[str]:
    """Remove the temporary files of atomic writes in ``folder`` whose writer no longer runs.

    Only files of this host are considered (a pid means nothing on another machine), and a file
    whose pid is alive is kept (it may be another writer's file in progress).

    Returns:
        list: The removed paths.
    """
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for name in os.listdir(folder):
            match = _TEMPORARY.match(name)
            if (match is None or match['host'] != _HOST
                    or _process_alive(int(match['pid']))):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.remove(osp.join(folder, name))
                removed.append(osp.join(folder, name))
    return removed


def _write_error(path: str, exc: OSError) -> AtomicWriteError:
    hint = ''
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, None):
        free = _free_bytes(osp.dirname(path))
        hint = f'; is the disk full? {free / 2 ** 20:.1f} MiB free in {osp.dirname(path)}'
    error = AtomicWriteError(f'cannot write {path}: {exc}{hint} (the file was left as it was)')
    error.errno = exc.errno
    return error


def _free_bytes(folder: str) -> float:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return float('nan')
    return float(stat.f_bavail * stat.f_frsize)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = 'w', **open_kwargs: Any) -> Iterator[Any]:
    """Open a temporary file next to ``path``; rename it to ``path`` only if the block succeeds.

    A failure inside the block leaves any existing ``path`` untouched and no partial file behind;
    an :class:`OSError` of the write (e.g. a full disk) becomes an :class:`AtomicWriteError`
    naming ``path``. Stale temporaries of killed writers in the folder are removed first.
    """
    path = osp.abspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{_temporary_stem(osp.basename(path))}.mmemtm-{_HOST}-{os.getpid()}-',
        suffix='.tmp',
        dir=folder)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp_path)
        if isinstance(exc, OSError) and not isinstance(exc, AtomicWriteError):
            raise _write_error(path, exc) from exc
        raise


def dump_json_atomic(obj: Any, path: str, **json_kwargs: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    with atomic_write(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, **json_kwargs)


def save_npy_atomic(array: np.ndarray, path: str) -> None:
    """Write ``array`` as ``.npy`` to ``path`` atomically."""
    with atomic_write(path, 'wb') as f:
        np.save(f, array)
