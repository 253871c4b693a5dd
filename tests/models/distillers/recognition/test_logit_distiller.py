"""Hinton KD between two recognizers."""
import torch
from mmaction.registry import MODELS

from recognition_kd_helpers import loss_step


def test_logit_distiller_trains_the_student_only(student_cfg, teacher_cfg, batch):
    model = MODELS.build(dict(type='LogitDistiller', student=student_cfg, teacher=teacher_cfg))
    model.init_weights()
    model.train()
    assert not model.teacher.training and model.student.training
    losses = loss_step(model, batch)
    assert {'loss_cls', 'loss_kd', 'top1_acc'} <= set(losses)
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None for p in model.student.parameters())
    model.eval()
    data = model.data_preprocessor(batch, False)
    ours = model(**data, mode='predict')
    theirs = model.student(**data, mode='predict')
    torch.testing.assert_close(torch.stack([s.pred_score for s in ours]),
                               torch.stack([s.pred_score for s in theirs]))
