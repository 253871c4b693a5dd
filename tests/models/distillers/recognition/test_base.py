"""What every recognition distiller does: the frozen teacher loaded weights-only, the student
initialised as when trained alone, 2-D recognizers too."""
import pytest
import torch
from mmaction.registry import MODELS

from mmemtm.compat import CheckpointTrustError
from mmemtm.models.distillers.recognition import LogitDistiller

from recognition_kd_helpers import NUM_CLASSES, changed, loss_step, make_batch


def test_teacher_checkpoint_loads_through_the_safe_loader(student_cfg, teacher_cfg, tmp_path,
                                                          payload):
    teacher = MODELS.build(teacher_cfg)
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict(), 'meta': {'epoch': 3}}, path)
    model = LogitDistiller(student_cfg, teacher_cfg, teacher_ckpt=str(path))
    model.init_weights()
    assert changed(teacher.state_dict(), model.teacher) == []
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': teacher.state_dict(), 'meta': payload}, bad)
    model = LogitDistiller(student_cfg, teacher_cfg, teacher_ckpt=str(bad))
    with pytest.raises(CheckpointTrustError, match='bad.pth'):
        model.init_weights()
    assert not (tmp_path / 'MARKER').exists()


def test_same_seed_same_student_initialisation(student_cfg, teacher_cfg):
    torch.manual_seed(7)
    alone = MODELS.build(student_cfg)
    alone.init_weights()
    torch.manual_seed(7)
    distiller = LogitDistiller(student_cfg, teacher_cfg)
    distiller.init_weights()
    assert changed(alone.state_dict(), distiller.student) == []


def test_recognizer2d_student_and_teacher():
    tsn = dict(type='Recognizer2D',
               backbone=dict(type='ResNet', depth=18, pretrained=None, norm_eval=False),
               cls_head=dict(type='TSNHead', num_classes=NUM_CLASSES, in_channels=512,
                             average_clips='prob'),
               data_preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5] * 3,
                                      std=[127.5] * 3, format_shape='NCHW'))
    model = LogitDistiller(tsn, tsn)
    model.init_weights()
    model.train()
    batch = make_batch([0, 1])
    # two segments of 32 x 32 frames per video: [segments, C, H, W]
    batch['inputs'] = [x[0, :, :2].permute(1, 0, 2, 3).contiguous() for x in batch['inputs']]
    losses = loss_step(model, batch)
    assert {'loss_cls', 'loss_kd'} <= set(losses)
    assert all(p.grad is None for p in model.teacher.parameters())
