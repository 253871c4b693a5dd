"""A 1-epoch train -> strip -> test round trip of a recognition distiller through the tools:
the teacher, then GKD from it (two passes per epoch), its checkpoint stripped to the student,
tested by mmaction's own tools/test.py."""
import glob
import os.path as osp
from pathlib import Path

import mmaction
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from mmemtm.compat import load_local_checkpoint
from mmemtm.datasets.synthetic_motion import SyntheticMotionConfig, generate_synthetic_motion

CONFIGS = Path('configs/recognition_kd')
MMACTION_TEST = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', 'test.py')


def _data_options(root: Path) -> list:
    opts = []
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.ann_file={root / (split + ".txt")}',
                 f'{split}_dataloader.dataset.data_prefix.video={root}',
                 f'{split}_dataloader.batch_size=5']
    return opts


def _one_epoch() -> list:
    return ['train_cfg.max_epochs=1', 'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
            'default_hooks.logger.interval=1']


def _best(work_dir: Path) -> str:
    found = glob.glob(str(work_dir / 'best_acc_top1_epoch_*.pth'))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope='module')
def tiny_motion(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('motion')
    generate_synthetic_motion(str(root), SyntheticMotionConfig(
        num_per_class=(('train', 1), ('val', 1), ('test', 1)), seed=1))
    return root


def test_train_strip_test_round_trip(tiny_motion, tmp_path, run_tool):
    data = _data_options(tiny_motion)
    run_tool(['tools/train.py', str(CONFIGS / 'i3d_teacher_synthetic_motion.py'), '--work-dir',
              str(tmp_path / 'teacher'), '--cfg-options', *data, *_one_epoch()])
    teacher = _best(tmp_path / 'teacher')
    gkd_cfg = CONFIGS / 'gkd_synthetic_motion.py'
    run_tool(['tools/train.py', str(gkd_cfg), '--work-dir', str(tmp_path / 'gkd'),
              '--cfg-options', *data, *_one_epoch(), f'model.teacher_ckpt={teacher}'])
    log = next((tmp_path / 'gkd').glob('*/*.log')).read_text()
    assert 'loss_cvae_pass' in log and 'loss_student_pass' in log
    student_ckpt, student_cfg = tmp_path / 'student.pth', tmp_path / 'student_cfg.py'
    out = run_tool(['tools/strip_distiller_checkpoint.py', _best(tmp_path / 'gkd'),
                    str(student_ckpt), '--config', str(gkd_cfg), '--out-config',
                    str(student_cfg)]).stdout
    assert 'tensors of the student kept' in out

    cfg = Config.fromfile(str(student_cfg))
    assert cfg.model.type == 'Recognizer3D' and cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert 'constructor' not in cfg.optim_wrapper
    weights = load_local_checkpoint(str(student_ckpt))['state_dict']
    assert not any(k.startswith(('teacher.', 'cvae.', 'student.')) for k in weights)
    model = MODELS.build(cfg.model)
    model.load_state_dict(weights, strict=True)  # every student weight, nothing else

    proc = run_tool([MMACTION_TEST, str(student_cfg), str(student_ckpt), '--work-dir',
                     str(tmp_path / 'test'), '--cfg-options', *data])
    assert 'acc/top1' in proc.stdout + proc.stderr
    assert torch.is_tensor(next(iter(weights.values())))
