"""TemporalFeatureNet: shapes, and stages the substage and attention distillers can tap."""
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from mmemtm.models.backbones import TemporalFeatureNet
from mmemtm.models.distillers.recognition.base import FeatureTaps

STAGES = ('backbone.stages.0', 'backbone.stages.1')


def recognizer(stage_type, width, out_channels=None, cvae=False):
    head = dict(type='GKDAttentionHead', num_classes=5, in_channels=out_channels or width,
                attention=dict(temporal_size=4, spatial_size=1, mid_channels=4,
                               resample_length=4), average_clips='prob')
    if cvae:
        head['cvae'] = dict(type='FeatureCVAE', spatial_size=1, hidden_channels=8)
    return dict(type='Recognizer3D', cls_head=head,
                backbone=dict(type='TemporalFeatureNet', in_channels=12, num_steps=4,
                              width=width, num_stages=2, stage_type=stage_type, num_heads=2,
                              out_channels=out_channels),
                data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))


def batch(n=4):
    samples = [ActionDataSample().set_gt_label(i % 5) for i in range(n)]
    for i, s in enumerate(samples):
        s.set_metainfo(dict(sample_idx=i))
    return torch.randn(n, 1, 12, 4, 1, 1), samples


@pytest.mark.parametrize('stage_type', ['transformer', 'conv'])
def test_output_is_a_non_negative_ncthw_map(stage_type):
    net = TemporalFeatureNet(in_channels=12, num_steps=4, width=8, num_stages=2,
                             stage_type=stage_type, num_heads=2, out_channels=16)
    out = net(torch.randn(3, 12, 4, 1, 1))
    assert out.shape == (3, 16, 4, 1, 1)
    assert (out >= 0).all()


def test_wrong_input_is_refused():
    net = TemporalFeatureNet(in_channels=12, num_steps=4, width=8, num_heads=2)
    with pytest.raises(ValueError, match=r'takes \[N, 12, 4, 1, 1\] feature clips'):
        net(torch.randn(3, 12, 5, 1, 1))
    with pytest.raises(ValueError, match='stage_type must be one of'):
        TemporalFeatureNet(stage_type='lstm')


@pytest.mark.parametrize('stage_type, width', [('transformer', 8), ('conv', 4)])
def test_stages_are_tapped_channels_first(stage_type, width):
    model = MODELS.build(recognizer(stage_type, width, out_channels=8))
    inputs, _ = batch()
    with FeatureTaps(model, STAGES) as feats:
        model.extract_feat(inputs)
    assert [tuple(feats[s].shape) for s in STAGES] == [(4, width, 4)] * 2


def test_staged_and_gkd_distillers_take_the_feature_recognizers():
    teacher = recognizer('transformer', 8, cvae=True)
    student = recognizer('conv', 4, out_channels=8)
    staged = MODELS.build(dict(
        type='StagedDistiller', student=student, teacher=teacher, student_stages=STAGES,
        teacher_stages=STAGES, stage_epochs=(0, 0, 0),
        pseudo_label=dict(num_samples=4, momentum=0.1)))
    gkd = MODELS.build(dict(type='GenerativeFeatureDistiller', student=student, teacher=teacher,
                            cvae=dict(type='FeatureCVAE', spatial_size=1, hidden_channels=8)))
    inputs, samples = batch()
    losses = staged.loss(inputs, samples)
    assert {'loss_substage', 'loss_distribution', 'loss_kd'} <= set(losses)
    losses = gkd.loss(inputs, samples)
    assert {'loss_attention', 'loss_reconstruction', 'loss_generative'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())


SPAN_STAGES = ('backbone.span_stages.0', 'backbone.span_stages.1')


def context_recognizer(stage_type, width, out_channels=None, cvae=False, read_context=True):
    """:func:`recognizer` over 4 span steps followed by 3 context steps."""
    cfg = recognizer(stage_type, width, out_channels, cvae)
    cfg['backbone'].update(context_steps=3, read_context=read_context)
    return cfg


def context_batch(n=4):
    inputs, samples = batch(n)
    return torch.cat([inputs, torch.randn(n, 1, 12, 3, 1, 1)], 3), samples


def test_a_span_only_backbone_ignores_the_context_steps():
    torch.manual_seed(0)
    net = TemporalFeatureNet(in_channels=12, num_steps=4, width=4, num_stages=2,
                             stage_type='conv', out_channels=8, context_steps=3,
                             read_context=False).eval()
    span = torch.randn(2, 12, 4, 1, 1)
    outputs = [net(torch.cat([span, torch.randn(2, 12, 3, 1, 1) * scale], 2))
               for scale in (1.0, 100.0)]
    torch.testing.assert_close(outputs[0], outputs[1])
    # the same parameters and computation as a backbone built without context
    plain = TemporalFeatureNet(in_channels=12, num_steps=4, width=4, num_stages=2,
                               stage_type='conv', out_channels=8).eval()
    plain.load_state_dict(net.state_dict(), strict=True)
    torch.testing.assert_close(plain(span), outputs[0])
    with pytest.raises(ValueError, match=r'takes \[N, 12, 7, 1, 1\] feature clips'):
        net(span)


def test_a_context_backbone_reads_the_context_and_taps_the_span_steps():
    torch.manual_seed(0)
    model = MODELS.build(context_recognizer('transformer', 8, out_channels=16)).eval()
    model.backbone.segment_embed.data.normal_()
    inputs, _ = context_batch()
    with FeatureTaps(model, SPAN_STAGES + STAGES) as feats:
        out = model.extract_feat(inputs)[0]
    assert out.shape == (4, 16, 4, 1, 1)
    assert [tuple(feats[s].shape) for s in SPAN_STAGES] == [(4, 8, 4)] * 2
    assert [tuple(feats[s].shape) for s in STAGES] == [(4, 8, 7)] * 2
    torch.testing.assert_close(feats[SPAN_STAGES[1]], feats[STAGES[1]][..., :4])
    other = inputs.clone()
    other[:, :, :, 4:] = torch.randn_like(other[:, :, :, 4:])
    assert (model.extract_feat(other)[0] - out).abs().max() > 1e-3


@pytest.mark.parametrize('distiller', ['StagedDistiller', 'GenerativeFeatureDistiller',
                                       'LogitDistiller'])
def test_distillers_train_a_span_student_from_a_context_teacher(distiller):
    torch.manual_seed(0)
    teacher = context_recognizer('transformer', 8, cvae=True)
    student = context_recognizer('conv', 4, out_channels=8, read_context=False)
    cfg = dict(type=distiller, student=student, teacher=teacher)
    if distiller == 'StagedDistiller':
        cfg.update(student_stages=STAGES, teacher_stages=SPAN_STAGES, stage_epochs=(0, 0, 0),
                   pseudo_label=dict(num_samples=4, momentum=0.1))
    elif distiller == 'GenerativeFeatureDistiller':
        cfg.update(cvae=dict(type='FeatureCVAE', spatial_size=1, hidden_channels=8))
    model = MODELS.build(cfg)
    inputs, samples = context_batch()
    before = [p.detach().clone() for p in model.student.parameters()]
    teacher_before = [p.detach().clone() for p in model.teacher.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = model.loss(inputs, samples)
    assert all(torch.isfinite(v).all() for v in losses.values())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    optimizer.step()
    assert any((a - b).abs().max() > 1e-6 for a, b in zip(model.student.parameters(), before))
    for a, b in zip(model.teacher.parameters(), teacher_before):
        torch.testing.assert_close(a, b)
