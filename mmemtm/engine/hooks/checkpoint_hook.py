"""mmengine's ``CheckpointHook`` with a safe ``last_checkpoint`` and a safe swap of the best
checkpoint; registered in mmaction's ``HOOKS`` as ``CheckpointHook``, so the configs'
``default_hooks.checkpoint = dict(type='CheckpointHook', ...)`` build this one (mmengine's own is
still ``mmengine.CheckpointHook``)."""
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from mmaction.registry import HOOKS
from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.runner.checkpoint import _load_checkpoint

from mmemtm.utils import atomic_write


@HOOKS.register_module(name='CheckpointHook')
@HOOKS.register_module()
class SafeCheckpointHook(MMEngineCheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` (same arguments, same files), with three changes:

    * ``last_checkpoint`` is written atomically (temporary file + rename in the work dir): a kill
      during the write leaves the previous one, and a link in its place is replaced, never
      written through (mmengine opened it with ``open(path, 'w')``).
    * A new best checkpoint is saved before the previous one is removed (mmengine removed first:
      a kill between the two left no best checkpoint at all).
    * On ``--resume``, best checkpoints in the work dir that hold a better score than the resumed
      checkpoint records (a kill after the new best was saved, before the epoch checkpoint that
      records it was saved again) become the best again; the superseded ones are removed.
    """

    # ---- last_checkpoint ------------------------------------------------------------------

    def _save_checkpoint_with_step(self, runner, step, meta):
        # mmengine 0.10's method; only the write of ``last_checkpoint`` differs.
        if self.max_keep_ckpts > 0:
            if len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step:
                pass
            else:
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    _step = self.keep_ckpt_ids.popleft()
                    if is_main_process():
                        ckpt_path = self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(_step))
                        if self.file_backend.isfile(ckpt_path):
                            self.file_backend.remove(ckpt_path)
                        elif self.file_backend.isdir(ckpt_path):
                            self.file_backend.rmtree(ckpt_path)
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        with atomic_write(osp.join(runner.work_dir, 'last_checkpoint'), 'w',
                          encoding='utf-8') as f:
            f.write(self.last_ckpt)

    # ---- the best checkpoint ----------------------------------------------------------------

    def _best_keys(self, key_indicator: str) -> Tuple[str, str]:
        """The message hub's keys of the best score and best checkpoint of ``key_indicator``."""
        if len(self.key_indicators) == 1:
            return 'best_score', 'best_ckpt'
        return f'best_score_{key_indicator}', f'best_ckpt_{key_indicator}'

    def _best_path(self, key_indicator: str) -> Optional[str]:
        if len(self.key_indicators) == 1:
            return self.best_ckpt_path
        return self.best_ckpt_path_dict.get(key_indicator)

    def _set_best_path(self, key_indicator: str, path: Optional[str]) -> None:
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key_indicator] = path

    def _remove(self, runner, path: str, why: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed are folders
            self.file_backend.rmtree(path)
        else:
            return
        runner.logger.info(f'The {why} best checkpoint {path} is removed')

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine 0.10's method, with the new best saved before the previous one is removed.
        if not self.save_best:
            return
        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])

        best_ckpt_updated = False
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            key_score = metrics[key_indicator]
            best_score_key, best_ckpt_key = self._best_keys(key_indicator)
            if best_score_key not in runner.message_hub.runtime_info:
                best_score = self.init_value_map[rule]
            else:
                best_score = runner.message_hub.get_info(best_score_key)
            if key_score is None or not self.is_better_than[key_indicator](key_score,
                                                                            best_score):
                continue
            best_ckpt_updated = True
            best_score = key_score
            previous = self._best_path(key_indicator)
            best_ckpt_name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
            best_path = self.file_backend.join_path(self.out_dir, best_ckpt_name)
            self._set_best_path(key_indicator, best_path)
            runner.message_hub.update_info(best_score_key, best_score)
            runner.message_hub.update_info(best_ckpt_key, best_path)
            runner.save_checkpoint(
                self.out_dir, filename=best_ckpt_name, file_client_args=self.file_client_args,
                save_optimizer=False, save_param_scheduler=False, meta=meta, by_epoch=False,
                backend_args=self.backend_args)
            runner.logger.info(
                f'The best checkpoint with {best_score:0.4f} {key_indicator} '
                f'at {cur_time} {cur_type} is saved to {best_ckpt_name}.')
            if previous and previous != best_path and is_main_process():
                self._remove(runner, previous, 'previous')

        # As mmengine: save the epoch checkpoint again, so that it records the new best.
        if best_ckpt_updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, cur_time, meta)

    # ---- resume -----------------------------------------------------------------------------

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not (self.save_best and runner._resume and runner._has_loaded):
            return
        adopted: List[Optional[Dict[str, Tuple[float, str]]]] = [None]
        if is_main_process():
            adopted = [self._best_of_the_work_dir(runner)]
        if get_world_size() > 1:
            broadcast_object_list(adopted)
        for key_indicator, (score, path) in (adopted[0] or {}).items():
            best_score_key, best_ckpt_key = self._best_keys(key_indicator)
            runner.message_hub.update_info(best_score_key, score)
            runner.message_hub.update_info(best_ckpt_key, path)
            self._set_best_path(key_indicator, path)

    def _best_of_the_work_dir(self, runner) -> Dict[str, Tuple[float, str]]:
        """For each key indicator, the best checkpoint of the work dir saved up to the resumed
        iteration if it holds a better score than the resumed checkpoint records; the other best
        checkpoints of that time are removed (what the interrupted swap would have done)."""
        if 'auto' in self.key_indicators:
            return {}  # the key is known only after the first validation
        try:
            names = list(self.file_backend.list_dir_or_file(self.out_dir, list_dir=False))
        except (OSError, NotImplementedError):
            return {}
        steps = re.escape(self.filename_tmpl).replace(r'\{\}', r'\d+')
        adopted = {}
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            best_score_key, _ = self._best_keys(key_indicator)
            hub = runner.message_hub.runtime_info
            best_score = hub.get(best_score_key, self.init_value_map[rule])
            recorded = self._best_path(key_indicator)
            prefix = re.escape(f'best_{key_indicator}_'.replace('/', '_'))
            found = []
            for name in names:
                path = self.file_backend.join_path(self.out_dir, name)
                if not re.fullmatch(prefix + steps, name) or path == recorded:
                    continue
                score, it = self._recorded_best(path, best_score_key)
                if score is not None and it is not None and it <= runner.iter:
                    found.append((score, path))
            best = None
            for score, path in found:
                if self.is_better_than[key_indicator](score, best_score):
                    best_score, best = score, (score, path)
            if best is None:
                if recorded and not self.file_backend.exists(recorded):
                    runner.logger.warning(
                        f'The best checkpoint the resumed run records, {recorded}, does not '
                        f'exist; {key_indicator} {best_score} stays the score to beat.')
                continue
            runner.logger.info(
                f'Resumed: {best[1]} ({key_indicator} {best[0]:0.4f}) is the best checkpoint '
                f'(a run interrupted after saving it had not recorded it yet)')
            for _, path in found:
                if path != best[1]:
                    self._remove(runner, path, 'superseded')
            if recorded and recorded != best[1]:
                self._remove(runner, recorded, 'superseded')
            adopted[key_indicator] = best
        return adopted

    @staticmethod
    def _recorded_best(path: str, best_score_key: str) -> Tuple[Optional[float], Optional[int]]:
        """The best score a best checkpoint recorded when it was saved, and its iteration."""
        try:
            checkpoint = _load_checkpoint(path, map_location='cpu')
            info = checkpoint['message_hub']['runtime_info']
            return info[best_score_key], checkpoint['meta']['iter']
        except Exception:  # unreadable or foreign: not a candidate
            return None, None
