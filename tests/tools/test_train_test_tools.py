"""tools/train.py, tools/test.py, --resume and `mim train mmemtm` on a tiny config (CPU)."""
import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

CONFIG = 'configs/baselines/span_prior_tacos_demo.py'
STUDENT_CONFIG = 'configs/ablations/student_only_tacos_demo.py'
TINY_STUDENT = ['model.dim=32', 'model.num_heads=4', 'model.encoder.char_dim=8', 'model.video_dim=32']


def train_args(work_dir, planted, demo_cfg_options, epochs=1):
    """Train on the first 128 of the demo subset's 976 training queries (8 batches)."""
    return ['--work-dir', str(work_dir), '--cfg-options', f'train_cfg.max_epochs={epochs}',
            *demo_cfg_options(planted), 'train_dataloader.dataset.indices=128']


def test_config_inherits_mmaction_runtime():
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    assert cfg.default_scope == 'mmaction'
    assert cfg.default_hooks.param_scheduler.type == 'ParamSchedulerHook'
    assert cfg.custom_imports.imports == ['mmemtm']
    assert cfg.model.type == 'SpanPriorGrounder'


@pytest.mark.slow
def test_train_test_and_resume(tmp_path, demo_planted, run_tool, demo_cfg_options):
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CONFIG, *train_args(work, demo_planted, demo_cfg_options)])
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file() and (work / 'last_checkpoint').is_file()

    dump = tmp_path / 'preds.json'
    proc = run_tool(['tools/test.py', CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'test'),
                     '--dump', str(dump), '--cfg-options', *demo_cfg_options(demo_planted)])
    assert 'R1@0.5' in proc.stdout + proc.stderr
    preds = json.loads(dump.read_text())
    assert len(preds) == 309 and {'query_id', 'pred_moments', 'ious'} <= set(preds[0])

    run_tool(['tools/train.py', CONFIG, '--resume',
              *train_args(work, demo_planted, demo_cfg_options, epochs=2)])
    resumed = torch.load(work / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert resumed['meta']['epoch'] == 2
    log = next(work.glob('*/*.log')).read_text() + ''.join(
        p.read_text() for p in work.glob('*/*.log'))
    assert 'Resumed' in log or 'resumed' in log


@pytest.mark.slow
def test_mim_train_finds_the_installed_package(tmp_path, demo_planted, demo_cfg_options,
                                               repo_root, tool_env):
    mim = Path(sys.executable).with_name('mim')
    if not mim.exists():
        mim = shutil.which('mim')
    assert mim, 'openmim is part of the pinned stack'
    env = dict(tool_env)
    env.pop('PYTHONPATH')  # as a user runs it: the installed package, with its .mim folder
    work = tmp_path / 'mim_work'
    proc = subprocess.run([str(mim), 'train', 'mmemtm', CONFIG,
                           *train_args(work, demo_planted, demo_cfg_options)],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (work / 'epoch_1.pth').is_file()
    assert 'mmemtm/.mim/tools/train.py' in proc.stdout + proc.stderr


def test_test_and_resume_refuse_a_checkpoint_that_runs_code(tmp_path, payload, tiny_planted,
                                                            tiny_cfg_options, run_tool):
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, evil)
    options = ['--cfg-options', *tiny_cfg_options(tiny_planted), *TINY_STUDENT]
    for tool in (['tools/test.py', STUDENT_CONFIG, str(evil)],
                 ['tools/train.py', STUDENT_CONFIG, '--resume', str(evil)]):
        proc = run_tool([*tool, '--work-dir', str(tmp_path / 'work'), *options], check=False)
        assert proc.returncode != 0
        assert re.search(r'CheckpointTrustError: checkpoint .*evil\.pth was refused: it needs '
                         r'(posix|nt)\.system', proc.stderr), proc.stderr[-3000:]
    assert not payload.marker.exists()


def test_test_tool_trusts_a_checkpoint_on_request(tmp_path, tiny_planted, tiny_cfg_options,
                                                  run_tool):
    from mmemtm.apis import init_grounder
    model = init_grounder(STUDENT_CONFIG, cfg_options=dict(model=dict(
        dim=32, num_heads=4, video_dim=32, encoder=dict(char_dim=8))))
    path = tmp_path / 'namespace.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': argparse.Namespace(note='extra')},
               path)
    proc = run_tool(['tools/test.py', STUDENT_CONFIG, str(path), '--trust-checkpoint',
                     '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                     *tiny_cfg_options(tiny_planted), *TINY_STUDENT])
    output = proc.stdout + proc.stderr
    assert f'checkpoint {path} is fully unpickled (trusted)' in output
    assert 'R1@0.5' in output


def preflight_report(stderr: str) -> list:
    """The lines of a tool's preflight report (what precedes it: library warnings at import)."""
    lines = stderr.strip().splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith('configs/')):]


def test_train_and_test_list_every_missing_input_before_building_anything(tmp_path, run_tool):
    curves = [str(tmp_path / f'{t}_train.npz') for t in ('seqpan', 'tan2d', 'scdm')]
    options = [f'{split}_dataloader.dataset.data_prefix.features={tmp_path / "planted"}'
               for split in ('train', 'val', 'test')]
    work = tmp_path / 'work'
    proc = run_tool(
        ['tools/train.py', 'configs/emtm_tacos_demo.py', '--work-dir', str(work),
         '--cfg-options', *options, f'train_dataloader.dataset.pipeline.4.files={curves}'],
        check=False)
    assert proc.returncode != 0
    report = preflight_report(proc.stderr)
    assert report[0] == ('configs/emtm_tacos_demo.py: 4 input(s) missing; nothing was built or '
                         'written. Make them, then run again:'), proc.stderr[-3000:]
    assert len(report) == 9 and not proc.stdout.strip()
    assert 'python tools/dump_teacher_curves.py configs/teachers/scdm_tacos_demo.py' in report[6]
    assert 'tools/data/generate_planted_features.py' in report[8]
    assert not work.exists()  # no log, no config dump

    proc = run_tool(
        ['tools/test.py', 'configs/emtm_tacos_demo.py', str(tmp_path / 'nowhere.pth'),
         '--work-dir', str(work), '--cfg-options', *options], check=False)
    assert proc.returncode != 0 and not work.exists()
    report = preflight_report(proc.stderr)
    assert report[0].startswith('configs/emtm_tacos_demo.py: 2 input(s) missing'), report
    assert report[1].startswith(f'  - features {tmp_path}/planted')
    assert report[3] == f'  - checkpoint {tmp_path}/nowhere.pth (load_from, CHECKPOINT)'


def test_test_tool_saves_a_figure_per_query(tmp_path, tiny_planted, tiny_cfg_options, run_tool):
    from mmemtm.apis import init_grounder
    model = init_grounder(STUDENT_CONFIG, cfg_options=dict(model=dict(
        dim=32, num_heads=4, video_dim=32, encoder=dict(char_dim=8))))
    ckpt = tmp_path / 'random.pth'
    torch.save(dict(meta={}, state_dict=model.state_dict()), ckpt)
    figures = tmp_path / 'figures'
    run_tool(['tools/test.py', STUDENT_CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'work'),
              '--show-dir', str(figures), '--show-first', '2', '--cfg-options',
              *tiny_cfg_options(tiny_planted), *TINY_STUDENT])
    videos = {r[0] for r in json.loads((tiny_planted / 'test.json').read_text())}
    saved = list(figures.iterdir())  # <video_id>_<ann_index>.png
    assert len(saved) == 2 and all(p.read_bytes()[:4] == b'\x89PNG' for p in saved)
    assert {p.stem.rsplit('_', 1)[0] for p in saved} <= videos
