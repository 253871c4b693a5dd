"""mmemtm's CheckpointHook: ``last_checkpoint`` written atomically and never through a link, and a
kill during the swap of the best checkpoint never loses the best one, before or after --resume."""
import itertools
import os
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.runner import Runner

from mmaction.registry import HOOKS
from toy_runner import toy_data, toy_runner

KEY = 'R1@0.7'
#: Validation score of each epoch: epoch 2 is the best; epoch 4 is better than epoch 1 only.
SCORES = {1: 4.0, 2: 6.25, 3: 3.0, 4: 4.69}
RUNS = itertools.count()


class Killed(BaseException):
    """Stands for a ``kill -9``: nothing after it runs (not caught by ``except Exception``)."""


class ScriptedMetric(BaseMetric):
    """``R1@0.7`` of the epoch just trained, from :data:`SCORES`."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = None

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        return {KEY: SCORES[self.runner.epoch]}


def scored_runner(work_dir: Path, max_epochs: int, **kwargs) -> Runner:
    # A runner's message hub is named after the run; runners of one second would share one.
    metric, name = ScriptedMetric(), f'scored_{next(RUNS)}'
    runner = toy_runner(
        str(work_dir), max_epochs=max_epochs,
        hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, save_best=KEY,
                                   rule='greater')),
        val_dataloader=dict(dataset=toy_data()[:2], sampler=dict(type='DefaultSampler',
                                                                  shuffle=False),
                            batch_size=2, collate_fn=dict(type='pseudo_collate')),
        val_cfg=dict(), val_evaluator=Evaluator([metric]), experiment_name=name, **kwargs)
    metric.runner = runner
    return runner


def best_files(work_dir: Path) -> List[str]:
    return sorted(p.name for p in work_dir.glob('best_*.pth'))


def best_score_in(path: Path) -> float:
    hub = torch.load(path, map_location='cpu', weights_only=False)['message_hub']
    return hub['runtime_info']['best_score']


def kill_at_epoch_2(monkeypatch, after_write: bool) -> None:
    """Make the save of ``best_*_epoch_2.pth`` the moment of a kill: inside the write (nothing of
    it on disk) or right after the complete file is on disk (whatever came next never runs)."""
    save = Runner.save_checkpoint

    def killed_save(self, out_dir, filename, *args, **kwargs):
        if filename.startswith('best_') and filename.endswith('epoch_2.pth'):
            if after_write:
                save(self, out_dir, filename, *args, **kwargs)
            raise Killed(filename)
        return save(self, out_dir, filename, *args, **kwargs)

    monkeypatch.setattr(Runner, 'save_checkpoint', killed_save)


def test_runtime_configs_checkpoint_hook_is_mmemtms():
    from mmemtm.engine import SafeCheckpointHook
    for config in ('configs/_base_/grounding_runtime.py',
                   'configs/_base_/recognition_kd_runtime.py'):
        cfg = Config.fromfile(config)
        assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'  # result keys unchanged
        hook = HOOKS.build(cfg.default_hooks.checkpoint)
        assert type(hook) is SafeCheckpointHook and isinstance(hook, MMEngineCheckpointHook)


def test_last_checkpoint_replaces_a_link_instead_of_writing_through_it(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    victim = tmp_path / 'precious.txt'
    victim.write_text('not yours')
    (work / 'last_checkpoint').symlink_to(victim)
    toy_runner(str(work), max_epochs=1).train()
    assert victim.read_text() == 'not yours'
    assert not (work / 'last_checkpoint').is_symlink()
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_4.pth')


def test_a_kill_inside_the_new_best_save_keeps_the_previous_best(tmp_path, monkeypatch):
    kill_at_epoch_2(monkeypatch, after_write=False)
    with pytest.raises(Killed):
        scored_runner(tmp_path, max_epochs=4).train()
    assert best_files(tmp_path) == [f'best_{KEY}_epoch_1.pth']
    assert best_score_in(tmp_path / f'best_{KEY}_epoch_1.pth') == SCORES[1]


def test_a_kill_after_the_new_best_save_keeps_it_the_best_after_resume(tmp_path, monkeypatch):
    kill_at_epoch_2(monkeypatch, after_write=True)
    with pytest.raises(Killed):
        scored_runner(tmp_path, max_epochs=4).train()
    assert f'best_{KEY}_epoch_2.pth' in best_files(tmp_path)
    monkeypatch.undo()

    resumed = scored_runner(tmp_path, max_epochs=4, resume=True)
    resumed.train()
    # Epoch 4 (4.69) beats the score recorded in epoch_2.pth (4.0) but not the true best (6.25).
    assert best_files(tmp_path) == [f'best_{KEY}_epoch_2.pth']
    assert resumed.message_hub.get_info('best_score') == SCORES[2]
    assert resumed.message_hub.get_info('best_ckpt') == str(tmp_path / f'best_{KEY}_epoch_2.pth')
    assert best_score_in(tmp_path / f'best_{KEY}_epoch_2.pth') == SCORES[2]


def test_an_uninterrupted_run_keeps_one_best_checkpoint(tmp_path):
    runner = scored_runner(tmp_path, max_epochs=4)
    runner.train()
    assert best_files(tmp_path) == [f'best_{KEY}_epoch_2.pth']
    assert runner.message_hub.get_info('best_score') == SCORES[2]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.')) == []
    assert os.path.isfile(tmp_path / 'last_checkpoint')
