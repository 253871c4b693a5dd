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


KD = dict(type='LogitKDLoss', temperature=1.0, loss_weight=1.0)


def _student_pass_losses(model, batch) -> dict:
    model.train_phase = 'student'
    return model(**model.data_preprocessor(batch, True), mode='loss')


def test_gkd_has_no_logit_term_by_default(student_cfg, teacher_cfg, batch):
    model, _ = _gkd(student_cfg, teacher_cfg)
    assert model.loss_kd is None
    model.train()
    losses = _student_pass_losses(model, batch)
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc', 'loss_reconstruction',
                           'loss_attention'}


def test_gkd_logit_term_trains_the_student_only(student_cfg, teacher_cfg, batch):
    model, optim = _gkd(student_cfg, teacher_cfg, loss_kd=KD)
    with torch.no_grad():   # a teacher whose logits are far from the student's near-uniform ones
        model.teacher.cls_head.fc_cls.weight.normal_(0, 1, generator=torch.Generator()
                                                     .manual_seed(0))
    model.train()
    losses = _student_pass_losses(model, batch)
    assert 'loss_kd' in losses and float(losses['loss_kd']) > 0
    losses['loss_kd'].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.cvae.parameters())
    # the CVAE pass has no logit term; a full student step changes the student only
    model.zero_grad()
    model.train_phase = 'cvae'
    assert 'loss_kd' not in model(**model.data_preprocessor(batch, True), mode='loss')
    model.train_phase = 'student'
    before = _snapshots(model)
    assert 'loss_kd' in model.train_step(batch, optim)
    assert _changed_parts(before, model) == {'student'}


def test_gkd_logit_term_is_the_logit_distillers(student_cfg, teacher_cfg, batch):
    kd = dict(KD, temperature=2.0, loss_weight=0.7)
    gkd, _ = _gkd(student_cfg, teacher_cfg, loss_kd=kd)
    logit = MODELS.build(dict(type='LogitDistiller', student=student_cfg, teacher=teacher_cfg,
                              loss_kd=kd))
    with torch.no_grad():   # classifiers far from their near-uniform initial logits
        for seed, head in enumerate((gkd.student.cls_head, gkd.teacher.cls_head)):
            head.fc_cls.weight.normal_(0, 1, generator=torch.Generator().manual_seed(seed))
    logit.student.load_state_dict(gkd.student.state_dict())
    logit.teacher.load_state_dict(gkd.teacher.state_dict())
    gkd.train()   # batch statistics: features of order 1 (the initial running ones give ~1e-6)
    logit.train()
    data = gkd.data_preprocessor(batch, True)
    with torch.no_grad():
        gkd.train_phase = 'student'
        ours = gkd(**data, mode='loss')['loss_kd']
        theirs = logit(**data, mode='loss')['loss_kd']
    assert float(theirs) > 0.01
    torch.testing.assert_close(ours, theirs)
