"""Fixtures of the tool tests: an EMTM trained on the tiny planted set through tools/train.py."""
import json
from pathlib import Path

import pytest

EMTM_CONFIG = 'configs/emtm_tacos_demo.py'


def read_scalars(work_dir: Path) -> list:
    """Records of mmengine's ``vis_data/scalars.json`` of a run."""
    path = next(work_dir.glob('*/vis_data/scalars.json'))
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope='session')
def scalars():
    """``scalars(work_dir)``: the logged records of an mmengine run."""
    return read_scalars


@pytest.fixture(scope='session')
def tiny_emtm(built_once, tiny_planted, tiny_cfg_options, run_tool) -> dict:
    """EMTM (tiny dims) trained 7 epochs on ``tiny_planted`` with its 3 synthetic teachers, only
    the last checkpoint saved, once per run: ``dict(config, work_dir, checkpoint, options,
    records)``."""
    curves = [str(tiny_planted / 'curves' / f'teacher{i}.npz') for i in range(3)]
    options = [*tiny_cfg_options(tiny_planted), 'model.video_dim=32', 'model.dim=32',
               'model.num_heads=4', 'model.encoder.char_dim=8', 'model.aggregator.dim=32',
               'train_cfg.max_epochs=7', 'optim_wrapper.optimizer.lr=3e-3',
               'param_scheduler=[]', 'default_hooks.logger.interval=4',
               'default_hooks.checkpoint.interval=7', 'default_hooks.checkpoint.save_best=None',
               f'train_dataloader.dataset.pipeline.4.files={curves}']
    work = built_once('tiny_emtm', lambda work: run_tool(
        ['tools/train.py', EMTM_CONFIG, '--work-dir', str(work), '--cfg-options', *options]))
    return dict(config=EMTM_CONFIG, work_dir=work, checkpoint=str(work / 'epoch_7.pth'),
                options=options, records=read_scalars(work))
