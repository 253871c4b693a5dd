"""mmengine's local file backend with atomic writes, so a killed or failing save never leaves a
truncated checkpoint under its final name.

mmengine writes checkpoints (``epoch_N.pth``, ``best_*.pth``) and ``last_checkpoint`` through its
file backend's ``put``/``put_text``; :class:`AtomicLocalBackend` writes them to a temporary file
and renames it into place (:func:`mmemtm.utils.atomic_write`). Importing mmemtm registers it as
mmengine's ``local`` backend (the one used for plain paths).
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from mmemtm.utils import atomic_write


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes are atomic (temporary file + rename).

    A failed write (full disk, ``kill -9``) leaves the previous file, or none, under the final
    name; its temporary file is removed, or, after a kill, by the next write into the folder.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        with atomic_write(str(filepath), 'wb') as f:
            f.write(obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        with atomic_write(str(filepath), 'w', encoding=encoding) as f:
            f.write(obj)


def install_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend of local paths."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
