"""One training per work dir: a second run into a folder in use fails at once."""
from typing import Any, Optional

from mmaction.registry import HOOKS
from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import Hook

from mmemtm.utils import FolderLock, FolderLockedError, remove_stale_temporaries


@HOOKS.register_module()
class WorkDirLockHook(Hook):
    """Hold a :class:`mmemtm.utils.FolderLock` on ``runner.work_dir`` from the start of the
    training loop (``before_train``, before the first checkpoint is written) to ``after_run``.

    Two trainings in one work dir would overwrite each other's checkpoints and
    ``last_checkpoint`` (a log that claims a best checkpoint holding another run's weights). The
    main process takes the lock and tells the other ranks; every rank raises
    :class:`mmemtm.utils.FolderLockedError` if it is taken. Once locked, temporary files left by
    killed checkpoint writes are removed. Test-only runs (``tools/test.py``) do not lock.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._lock: Optional[FolderLock] = None

    def before_train(self, runner: Any) -> None:
        error = [None]
        if is_main_process():
            try:
                self._lock = FolderLock(runner.work_dir, 'training').acquire()
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
