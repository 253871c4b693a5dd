"""EMTM trains through tools/train.py on a tiny planted set: the loss falls and it beats the
trivial baseline."""
import json
from pathlib import Path

import pytest

EMTM_CONFIG = 'configs/emtm_tacos_demo.py'
PRIOR_CONFIG = 'configs/baselines/span_prior_tacos_demo.py'


def scalars(work_dir: Path) -> list:
    path = next(work_dir.glob('*/vis_data/scalars.json'))
    return [json.loads(line) for line in path.read_text().splitlines()]


def train(run_tool, config, work_dir, options):
    run_tool(['tools/train.py', config, '--work-dir', str(work_dir), '--cfg-options', *options])
    records = scalars(work_dir)
    losses = [r['loss'] for r in records if 'loss' in r]
    val = [r for r in records if 'R1@0.5' in r]
    return losses, val


@pytest.mark.slow
def test_emtm_learns_and_beats_the_trivial_baseline(tmp_path, tiny_planted, tiny_cfg_options,
                                                    run_tool):
    curves = [str(tiny_planted / 'curves' / f'teacher{i}.npz') for i in range(3)]
    model = ['model.video_dim=32', 'model.dim=32', 'model.num_heads=4', 'model.char_dim=8',
             'model.aggregator.dim=32']
    schedule = ['train_cfg.max_epochs=10', 'optim_wrapper.optimizer.lr=3e-3',
                'param_scheduler=[]', 'default_hooks.logger.interval=4']
    options = [*tiny_cfg_options(tiny_planted), *model, *schedule,
               f'train_dataloader.dataset.pipeline.4.files={curves}']
    losses, val = train(run_tool, EMTM_CONFIG, tmp_path / 'emtm', options)
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3
    _, prior_val = train(run_tool, PRIOR_CONFIG, tmp_path / 'prior',
                         [*tiny_cfg_options(tiny_planted), 'train_cfg.max_epochs=10'])
    emtm_r1 = max(r['R1@0.5'] for r in val)
    prior_r1 = max(r['R1@0.5'] for r in prior_val)
    assert emtm_r1 > prior_r1 + 15, (emtm_r1, prior_r1)
