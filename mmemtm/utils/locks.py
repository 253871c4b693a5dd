"""Exclusive locks on folders, so two runs never write into one folder at the same time.

The lock is an ``fcntl.flock`` on ``<folder>/.mmemtm.lock``, removed when the lock is released:
the operating system releases the lock when the process ends, however it ends, so a killed run
never leaves a folder locked (only the file, which the next run reuses).
"""
import contextlib
import errno
import fcntl
import json
import os
import os.path as osp
import stat
import sys
import time
from typing import IO, Dict, Iterator, Optional

from .io import linked_file_error

LOCK_FILE = '.mmemtm.lock'


#: Folder -> the lock this process holds on it.
_HELD: Dict[str, 'FolderLock'] = {}


class FolderLockedError(RuntimeError):
    """Another process holds the folder's lock; the message names the folder and the holder."""


class FolderLock:
    """An exclusive, non-blocking lock on ``folder`` (created if needed).

    Args:
        folder: The folder.
        purpose: What the lock protects, for messages (e.g. ``'training'``).
    """

    def __init__(self, folder: str, purpose: str) -> None:
        self.folder = osp.abspath(folder)
        self.purpose = purpose
        self._file: Optional[IO[str]] = None

    @property
    def path(self) -> str:
        return osp.join(self.folder, LOCK_FILE)

    def _holder(self) -> str:
        try:
            with open(self.path, encoding='utf-8') as f:
                info = json.load(f)
            return (f'pid {info["pid"]}, {info["purpose"]}, since {info["since"]}: '
                    f'{info["command"]}')
        except (OSError, ValueError, KeyError, TypeError):
            return 'holder unknown'

    def _open(self) -> IO[str]:
        """The lock file, opened for writing without following a link in its place (a link is
        refused: the lock file is truncated and rewritten, which would change its target)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
                         | os.O_CLOEXEC | os.O_NONBLOCK, 0o666)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise linked_file_error(self.path, 'symbolic', 'lock file') from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            os.close(fd)
            kind = 'hard' if stat.S_ISREG(info.st_mode) else 'special file, not a'
            raise linked_file_error(self.path, kind, 'lock file')
        return os.fdopen(fd, 'a+', encoding='utf-8')

    def _open_locked(self) -> Optional[IO[str]]:
        """The lock file, opened and locked; None if it was removed by its previous holder
        between our open and our lock (then the caller opens the new one)."""
        handle = self._open()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise FolderLockedError(
                f'{self.folder} is in use by another run ({self._holder()}); two runs in one '
                f'folder would mix their files. Wait for it to finish or use another folder '
                f'for this {self.purpose}.') from None
        try:
            same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            handle.close()
            return None
        return handle

    def acquire(self) -> 'FolderLock':
        """Take the lock, or raise :class:`FolderLockedError` at once if another process has it.

        A lock this process still holds on the folder (e.g. from a run that raised before it
        could release it) is handed over to this one.
        """
        os.makedirs(self.folder, exist_ok=True)
        previous = _HELD.get(self.folder)
        if previous is not None:
            previous.release()
        handle = None
        while handle is None:
            handle = self._open_locked()
        handle.seek(0)
        handle.truncate()
        json.dump(dict(pid=os.getpid(), purpose=self.purpose,
                       since=time.strftime('%Y-%m-%d %H:%M:%S'), command=' '.join(sys.argv)),
                  handle)
        handle.flush()
        self._file = handle
        _HELD[self.folder] = self
        return self

    def release(self) -> None:
        """Release the lock and remove the lock file (a killed holder leaves it; the next run
        reuses it)."""
        if self._file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
            if _HELD.get(self.folder) is self:
                del _HELD[self.folder]

    @property
    def held(self) -> bool:
        return self._file is not None


def held_lock(folder: str) -> Optional[FolderLock]:
    """The lock this process holds on ``folder``, if any."""
    lock = _HELD.get(osp.abspath(folder))
    return lock if lock is not None and lock.held else None


@contextlib.contextmanager
def locked_folder(folder: str, purpose: str) -> Iterator[FolderLock]:
    """Hold :class:`FolderLock` of ``folder`` for the block."""
    lock = FolderLock(folder, purpose).acquire()
    try:
        yield lock
    finally:
        lock.release()
