""".npy arrays (alone or as members of an ``.npz``) whose header is checked before any allocation.

An ``.npy`` header states the array's shape and dtype; numpy allocates the whole array before it
reads the data, so a few bytes claiming ``(10**12, 1024)`` end in a ``MemoryError`` (or in
terabytes of swap) instead of an error about the file. :func:`load_npy` and :func:`load_npz`
read the header first and refuse an array that needs more bytes than the file (or the ``.npz``
member) holds, and arrays of Python objects, with an :class:`NpyFileError` naming the file.
"""
import os
import zipfile
from typing import BinaryIO, Dict, Optional, Tuple

import numpy as np
from numpy.lib import format as npy_format

#: Largest expansion of deflate (zlib's limit is about 1032:1), for compressed ``.npz`` members.
DEFLATE_MAX_RATIO = 1032


class NpyFileError(ValueError):
    """An ``.npy`` file (or ``.npz`` member) is unreadable or states more data than it holds;
    the message names the file."""


def read_npy_header(fp: BinaryIO, name: str) -> Tuple[Tuple[int, ...], np.dtype, int]:
    """``(shape, dtype, data_bytes)`` of the ``.npy`` stream at ``fp`` (left after the header).

    Raises:
        NpyFileError: Not an ``.npy`` stream, or an array of Python objects.
    """
    try:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(fp)
        else:
            shape, _, dtype = npy_format._read_array_header(fp, version)
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise NpyFileError(f'{name}: {type(exc).__name__}: {exc or "empty file"} (not a '
                           'readable .npy array)') from exc
    if dtype.hasobject:
        raise NpyFileError(f'{name}: holds Python objects (dtype {dtype}), not numbers; object '
                           'arrays are not read (unpickling them could run code)')
    count = 1
    for size in shape:
        count *= int(size)
    return tuple(shape), dtype, count * dtype.itemsize


def check_npy_size(fp: BinaryIO, available: int, name: str
                   ) -> Tuple[Tuple[int, ...], np.dtype]:
    """Read the header at ``fp`` and refuse it unless the ``available`` bytes of the stream
    (header included) hold its data; ``fp`` is left after the header."""
    shape, dtype, needed = read_npy_header(fp, name)
    held = available - fp.tell()
    if needed > held:
        raise NpyFileError(f'{name}: the header states an array of shape {shape} ({dtype}, '
                           f'{_size(needed)}), but the file holds only {_size(max(held, 0))} of '
                           'data: truncated or forged; nothing was allocated')
    return shape, dtype


def _size(num: int) -> str:
    for unit in ('bytes', 'KiB', 'MiB', 'GiB', 'TiB'):
        if num < 1024 or unit == 'TiB':
            return f'{num} {unit}' if unit == 'bytes' else f'{num:.2f} {unit}'
        num /= 1024
    return str(num)


def load_npy(path: str, mmap_mode: Optional[str] = None) -> np.ndarray:
    """The array of the ``.npy`` file ``path``, its header checked against the file's size
    first (``mmap_mode``: as :func:`numpy.load`; objects are never unpickled).

    Raises:
        NpyFileError: Unreadable, truncated, forged header, or an object array.
    """
    with open(path, 'rb') as fp:
        size = os.fstat(fp.fileno()).st_size
        if size == 0:
            raise NpyFileError(f'{path}: the file is empty (0 bytes)')
        check_npy_size(fp, size, path)
        if mmap_mode is None:
            fp.seek(0)
            try:
                return npy_format.read_array(fp, allow_pickle=False)
            except (ValueError, EOFError, OSError) as exc:
                raise NpyFileError(f'{path}: {type(exc).__name__}: {exc}') from exc
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise NpyFileError(f'{path}: {type(exc).__name__}: {exc}') from exc


def load_npz(path: str) -> Dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, each member's header checked against the
    member's size first.

    Raises:
        NpyFileError: A member is unreadable, states more data than it holds, or holds objects.
        zipfile.BadZipFile, OSError: The file is no zip archive.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith('.npy'):
                continue
            name = f'{path}[{info.filename[:-4]}]'
            held = info.file_size
            if info.compress_type == zipfile.ZIP_STORED:
                held = min(held, info.compress_size)
            else:
                held = min(held, info.compress_size * DEFLATE_MAX_RATIO + 1024)
            with archive.open(info) as fp:
                check_npy_size(fp, held, name)
            with archive.open(info) as fp:
                try:
                    arrays[info.filename[:-4]] = npy_format.read_array(fp, allow_pickle=False)
                except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
                    raise NpyFileError(f'{name}: {type(exc).__name__}: {exc}') from exc
    return arrays
