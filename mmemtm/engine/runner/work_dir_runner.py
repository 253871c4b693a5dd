"""The runner of ``tools/train.py`` and ``tools/test.py``: mmengine's, writing its work dir
safely."""
import os
import os.path as osp
import re
from typing import List, Optional

from mmaction.registry import RUNNERS
from mmengine.dist import master_only
from mmengine.runner import Runner

from mmemtm.utils.io import atomic_write, refuse_link

#: Checkpoints of mmengine's CheckpointHook (its default ``filename_tmpl``s).
_STEP_CHECKPOINT = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class ResumeError(RuntimeError):
    """``--resume`` without a path cannot tell which checkpoint to continue from."""


def step_checkpoints(work_dir: str) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` of ``work_dir``, oldest first (by N)."""
    try:
        names = os.listdir(work_dir)
    except OSError:
        return []
    found = [(m[1], int(m[2]), name) for name in names
             for m in [_STEP_CHECKPOINT.match(name)] if m]
    return [name for _, _, name in sorted(found)]


def check_last_checkpoint(work_dir: str) -> None:
    """Raise :class:`ResumeError` naming ``<work_dir>/last_checkpoint`` if it exists but does not
    name an existing checkpoint (empty, or garbage); mmengine would log "Auto resumed from the
    latest checkpoint ." and fail with ``FileNotFoundError: checkpoint can not be found``.

    A missing ``last_checkpoint`` is fine: mmengine then starts from the beginning.
    """
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.lexists(path):
        return
    with open(path, 'rb') as f:
        named = f.read(4096).decode('utf-8', errors='replace').strip()
    if named and ('://' in named or osp.isfile(named)):
        return
    what = 'is empty' if not named else f'names {named!r}, which does not exist'
    found = step_checkpoints(work_dir)
    if found:
        hint = (f'the checkpoints there: {", ".join(found)}; continue from the latest with '
                f'--resume {osp.join(work_dir, found[-1])}')
    else:
        hint = 'there is no epoch_N.pth or iter_N.pth there; train without --resume'
    raise ResumeError(f'cannot resume: {path} {what} (it names the checkpoint --resume continues '
                      f'from); {hint}')


@RUNNERS.register_module()
class WorkDirRunner(Runner):
    """:class:`mmengine.runner.Runner` whose writes into the work dir never go through a link.

    * The config copy ``<work_dir>/<config name>.py`` is written atomically (temporary file +
      rename), replacing a link in its place (mmengine's ``Config.dump`` wrote through it).
    * The files written in place, line by line, are refused if they are links: the run's log
      folder ``<work_dir>/<timestamp>``, its log file and ``vis_data`` (``scalars.json``,
      ``config.py``). Each run creates a new log folder, so these are links only if someone put
      them there.
    * ``--resume`` without a path on an empty or garbage ``last_checkpoint`` raises
      :class:`ResumeError` naming the file and the checkpoints there
      (:func:`check_last_checkpoint`).

    Checkpoints and ``last_checkpoint`` are written atomically by mmemtm's file backend and
    ``CheckpointHook``; the lock on the work dir is taken by ``tools/train.py`` before the runner
    is built (``WorkDirLockHook``).
    """

    def build_logger(self, log_level='INFO', log_file: Optional[str] = None, **kwargs):
        if log_file is None:
            log_file = osp.join(self._log_dir, f'{self.timestamp}.log')
        refuse_link(self._log_dir, 'log folder')
        refuse_link(log_file, 'log')
        return super().build_logger(log_level=log_level, log_file=log_file, **kwargs)

    def build_visualizer(self, visualizer=None):
        vis_data = osp.join(self._log_dir, 'vis_data')
        refuse_link(vis_data, 'visualizer folder')
        for name in ('scalars.json', 'config.py'):
            refuse_link(osp.join(vis_data, name), 'visualizer data')
        return super().build_visualizer(visualizer)

    @master_only
    def dump_config(self) -> None:
        filename = (osp.basename(self.cfg.filename) if self.cfg.filename is not None
                    else f'{self.timestamp}.py')
        text = self.cfg.dump()  # the text mmengine would write (in the config's own format)
        with atomic_write(osp.join(self.work_dir, filename), 'w', encoding='utf-8') as f:
            f.write(text)

    def load_or_resume(self) -> None:
        if not self._has_loaded and self._resume and self._load_from is None:
            check_last_checkpoint(self.work_dir)
        super().load_or_resume()
