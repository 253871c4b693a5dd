"""Staged KD end to end: substages joining in cascade order, pseudo labels from the teacher."""
import pytest
import torch
from mmaction.registry import MODELS

from recognition_kd_helpers import (NUM_CLASSES, loss_step, make_batch, noisy_and_true_labels,
                                    set_epoch)


def _staged(student_cfg, teacher_cfg, **kwargs):
    model = MODELS.build(dict(type='StagedDistiller', student=student_cfg, teacher=teacher_cfg,
                              **kwargs))
    model.init_weights()
    return model


def _stage_keys(losses: dict) -> list:
    return sorted(k for k in losses if k.startswith('weight_stage'))


@pytest.mark.parametrize('mode', ['cumulative', 'single'])
def test_staged_kd_cascade_in_the_losses(student_cfg, teacher_cfg, batch, mode):
    model = _staged(student_cfg, teacher_cfg, stage_epochs=(0, 1, 2, 3), cascade_mode=mode)
    model.train()
    seen = []
    for epoch in range(5):
        set_epoch(epoch)
        model.zero_grad()
        losses = loss_step(model, batch)
        seen.append((_stage_keys(losses), 'loss_kd' in losses))
    if mode == 'cumulative':
        assert seen == [(['weight_stage0'], False), (['weight_stage0', 'weight_stage1'], False),
                        (['weight_stage0', 'weight_stage1', 'weight_stage2'], False),
                        (['weight_stage0', 'weight_stage1', 'weight_stage2'], True),
                        (['weight_stage0', 'weight_stage1', 'weight_stage2'], True)]
    else:
        assert seen == [(['weight_stage0'], False), (['weight_stage1'], False),
                        (['weight_stage2'], False), ([], True), ([], True)]
    assert all(p.grad is None for p in model.teacher.parameters())
    weights = torch.stack([losses[k] for k in _stage_keys(losses)]) if mode == 'cumulative' \
        else torch.ones(1)
    assert float(weights.sum()) == pytest.approx(len(weights))


def test_staged_kd_first_substage_trains_only_up_to_its_end(student_cfg, teacher_cfg, batch):
    # before the logits join, the substage loss of stage 0 reaches only the layers below it
    model = _staged(student_cfg, teacher_cfg, stage_epochs=(0, 5, 5, 5))
    model.train()
    set_epoch(0)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    losses['loss_substage'].backward()
    grads = {name for name, p in model.student.named_parameters() if p.grad is not None and
             bool(p.grad.abs().sum() > 0)}
    assert any(name.startswith('backbone.mixed_3b') for name in grads)
    assert not any(name.startswith(('backbone.mixed_5', 'cls_head')) for name in grads)


def test_staged_kd_bad_stages_are_named(student_cfg, teacher_cfg):
    with pytest.raises(KeyError, match='backbone.mixed_9z'):
        _staged(student_cfg, teacher_cfg, student_stages=('backbone.mixed_9z',),
                teacher_stages=('backbone.mixed_5c',), stage_epochs=(0, 1))
    with pytest.raises(ValueError, match='stage_epochs needs 4'):
        _staged(student_cfg, teacher_cfg, stage_epochs=(0, 1))


def test_staged_kd_refines_pseudo_labels_from_the_teacher(student_cfg, teacher_cfg,
                                                          monkeypatch):
    noisy, true = noisy_and_true_labels()
    noisy, true = noisy[:16] % NUM_CLASSES, true[:16] % NUM_CLASSES
    # no substage is active yet: only the labels are learnt (from the oracle teacher's refinement)
    model = _staged(student_cfg, teacher_cfg, stage_epochs=(5, 5, 5, 5),
                    pseudo_label=dict(num_samples=16, momentum=0.5))
    oracle = torch.nn.functional.one_hot(true, NUM_CLASSES).float() * 6.0
    batch = make_batch(noisy.tolist(), list(range(16)))
    monkeypatch.setattr(model, 'teacher_logits', lambda inputs: oracle)
    model.train()
    start = float((model.pseudo_labels.targets(torch.arange(16), noisy).argmax(1) == true)
                  .float().mean())
    for _ in range(3):
        loss_step(model, batch)
    end = float((model.pseudo_labels.labels.argmax(1) == true).float().mean())
    assert end == 1.0 and start < 1.0
    # every process applies every update itself: DDP must not copy rank 0's bank over the others
    assert model._ddp_params_and_buffers_to_ignore == ['pseudo_labels.labels',
                                                       'pseudo_labels.seen']
    missing = make_batch([0])
    del missing['data_samples'][0].sample_idx
    with pytest.raises(KeyError, match='sample_idx'):
        loss_step(model, missing)
