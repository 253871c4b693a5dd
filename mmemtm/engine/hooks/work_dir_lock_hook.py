"""One training per work dir: a second run into a folder in use fails at once."""
import os
from typing import Any, Optional

from mmaction.registry import HOOKS
from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import Hook

from mmemtm.utils import FolderLock, FolderLockedError, remove_stale_temporaries
from mmemtm.utils.locks import held_lock


def launch_rank() -> int:
    """This process's rank as its launcher set it (before mmengine initialises distributed
    training): 0 for a single process."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return 0


def lock_work_dir(work_dir: str) -> Optional[FolderLock]:
    """Take the training lock of ``work_dir`` in the main process before anything is written
    into it (``tools/train.py`` calls this before it builds the runner); other ranks return
    None. Raises :class:`mmemtm.utils.FolderLockedError` if another run holds it.
    :class:`WorkDirLockHook` takes this lock over and releases it when the run ends."""
    if launch_rank() != 0:
        return None
    return FolderLock(work_dir, 'training').acquire()


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """Hold a :class:`mmemtm.utils.FolderLock` on ``runner.work_dir`` from the start of the
    training loop (``before_train``, before the first checkpoint is written) to ``after_run``.

    Two trainings in one work dir would overwrite each other's checkpoints and
    ``last_checkpoint`` (a log that claims a best checkpoint holding another run's weights). The
    main process takes the lock and tells the other ranks; every rank raises
    :class:`mmemtm.utils.FolderLockedError` if it is taken. A lock the process already holds on
    the work dir (:func:`lock_work_dir`: ``tools/train.py`` locks before the runner writes its
    config copy and log folder) is taken over. Once locked, temporary files left by killed
    checkpoint writes are removed. Test-only runs (``tools/test.py``) do not lock.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._lock: Optional[FolderLock] = None

    def before_train(self, runner: Any) -> None:
        error = [None]
        if is_main_process():
            try:
                self._lock = (held_lock(runner.work_dir)
                              or FolderLock(runner.work_dir, 'training').acquire())
                remove_stale_temporaries(runner.work_dir)
            except FolderLockedError as exc:
                error = [str(exc)]
        if get_world_size() > 1:
            broadcast_object_list(error)
        if error[0] is not None:
            raise FolderLockedError(error[0])

    def after_run(self, runner: Any) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
