"""GKD: the two passes' gradient isolation, the reconstruction ramp, the teacher's CVAE."""
import pytest
import torch
from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import OptimWrapper

from recognition_kd_helpers import changed, make_batch, recognizer, set_epoch, snapshot


def _gkd(student_cfg, teacher_cfg, **kwargs):
    model = MODELS.build(dict(type='GenerativeFeatureDistiller', student=student_cfg,
                              teacher=teacher_cfg, cvae=dict(type='FeatureCVAE', spatial_size=1),
                              **kwargs))
    model.init_weights()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='PartsOptimWrapperConstructor', optim_wrapper_cfg=dict(
            student=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
            cvae=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.01)))))
    return model, constructor(model)


def _snapshots(model) -> dict:
    return {part: snapshot(getattr(model, part)) for part in ('student', 'cvae', 'teacher')}


def _changed_parts(before: dict, model) -> set:
    return {part for part, state in before.items() if changed(state, getattr(model, part))}


def test_gkd_student_pass_leaves_the_cvae_unchanged(student_cfg, teacher_cfg, batch):
    model, optim = _gkd(student_cfg, teacher_cfg)
    model.train()
    model.train_phase = 'student'
    before = _snapshots(model)
    log_vars = model.train_step(batch, optim)
    assert {'loss_cls', 'loss_attention', 'loss_reconstruction', 'loss_student_pass'} <= \
        set(log_vars)
    assert 'loss_cvae' not in log_vars
    assert _changed_parts(before, model) == {'student'}
    assert all(p.grad is None for p in model.cvae.parameters())


def test_gkd_cvae_pass_leaves_the_student_unchanged(student_cfg, teacher_cfg, batch):
    model, optim = _gkd(student_cfg, teacher_cfg)
    model.train()
    model.train_phase = 'cvae'
    before = _snapshots(model)
    log_vars = model.train_step(batch, optim)
    assert {'loss_cvae', 'loss_generative', 'loss_cvae_pass'} <= set(log_vars)
    assert 'loss_cls' not in log_vars
    # the student's parameters AND its batch-norm statistics stay as they were
    assert _changed_parts(before, model) == {'cvae'}
    assert model.student.training  # put back in training mode after the pass
    assert all(p.grad is None for p in model.student.parameters())


def test_gkd_both_passes_per_step_and_optimiser_check(student_cfg, teacher_cfg, batch):
    model, optim = _gkd(student_cfg, teacher_cfg)
    model.train()
    before = _snapshots(model)
    log_vars = model.train_step(batch, optim)
    assert {'loss_cvae_pass', 'loss_student_pass'} <= set(log_vars)
    assert _changed_parts(before, model) == {'student', 'cvae'}
    plain = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='one optimiser per pass'):
        model.train_step(batch, plain)


def test_gkd_reconstruction_ramp(student_cfg, teacher_cfg, batch):
    model, _ = _gkd(student_cfg, teacher_cfg, sample_latent=False,
                    loss_reconstruction=dict(type='RampedMSELoss', loss_weight=0.5,
                                             ramp_epochs=4))
    model.train()
    model.train_phase = 'student'
    data = model.data_preprocessor(batch, True)
    values = []
    for epoch in range(6):
        set_epoch(epoch)
        with torch.no_grad():
            values.append(float(model(**data, mode='loss')['loss_reconstruction']))
    full = values[-1]
    assert full > 0
    expected = [min((e + 1) / 4, 1.0) * full for e in range(6)]
    assert values == pytest.approx(expected, rel=1e-5)


def test_gkd_refuses_a_teacher_without_cvae_or_of_other_width(student_cfg):
    with pytest.raises(TypeError, match="teacher's GKDAttentionHead has no cvae"):
        MODELS.build(dict(type='GenerativeFeatureDistiller', student=student_cfg,
                          teacher=student_cfg))
    wider = recognizer('conv3d_1a_7x7', cvae=True)
    wider['backbone']['width'] = 0.125
    wider['cls_head']['in_channels'] = 128
    with pytest.raises(ValueError, match='must match'):
        MODELS.build(dict(type='GenerativeFeatureDistiller', student=student_cfg,
                          teacher=wider))


def test_gkd_predicts_with_the_student_alone(student_cfg, teacher_cfg):
    model, _ = _gkd(student_cfg, teacher_cfg)
    model.eval()
    data = model.data_preprocessor(make_batch([0, 1]), False)
    ours = model(**data, mode='predict')
    theirs = model.student(**data, mode='predict')
    torch.testing.assert_close(torch.stack([s.pred_score for s in ours]),
                               torch.stack([s.pred_score for s in theirs]))


def test_gkd_wrapped_step_needs_unused_parameters_found(student_cfg, teacher_cfg, batch):
    # each pass leaves the other pass's part without gradient, which DDP only allows with
    # find_unused_parameters=True
    from types import SimpleNamespace
    model, optim = _gkd(student_cfg, teacher_cfg)
    with pytest.raises(ValueError, match='find_unused_parameters=True'):
        model.wrapped_train_step(batch, optim, SimpleNamespace(find_unused_parameters=False))
