import math

import pytest
import torch
from mmaction.registry import MODELS

from mmemtm.models.layers import SemanticConditionedModulation
from mmemtm.models.teachers.anchors import (anchor_moments, decode_offsets, encode_offsets,
                                            multiscale_anchors)
from mmemtm.models.teachers.scdm import pyramid_lengths
from mmemtm.models.utils.decoding import moment_nms_order, topk_moments
from mmemtm.structures import GroundingDataSample


def tiny_scdm(glove, **kwargs):
    cfg = dict(type='SCDMGrounder', vocab=glove, video_dim=16, hidden_dim=8, num_cells=16,
               num_levels=3, attn_dim=8, dropout=0.0)
    cfg.update(kwargs)
    return MODELS.build(cfg).eval()


def sample(duration, gt, query_id='v#0'):
    s = GroundingDataSample()
    s.set_metainfo(dict(query_id=query_id, duration=duration, gt_time=gt))
    return s


def test_multiscale_anchors_by_hand():
    anchors = multiscale_anchors([4, 2], [1.0, 2.0])
    expected = [[0.125, 0.25], [0.125, 0.5], [0.375, 0.25], [0.375, 0.5], [0.625, 0.25],
                [0.625, 0.5], [0.875, 0.25], [0.875, 0.5], [0.25, 0.5], [0.25, 1.0],
                [0.75, 0.5], [0.75, 1.0]]
    assert torch.allclose(anchors, torch.tensor(expected))
    assert torch.allclose(anchor_moments(anchors[[1, 9]]),
                          torch.tensor([[0.0, 0.375], [0.0, 0.75]]))
    with pytest.raises(ValueError):
        multiscale_anchors([4], [0.0])


def test_pyramid_lengths():
    assert pyramid_lengths(64, 5) == [32, 16, 8, 4, 2]
    with pytest.raises(ValueError, match='divisible'):
        pyramid_lengths(24, 4)


def test_offsets_by_hand_and_round_trip():
    anchors = torch.tensor([[0.25, 0.25], [0.5, 1.0]])
    gt = torch.tensor([[0.2, 0.5]])
    offsets = encode_offsets(anchors, gt)
    # centre 0.35, width 0.3: (0.35 - 0.25) / 0.25 = 0.4, log(0.3 / 0.25).
    assert offsets[0, 0].tolist() == pytest.approx([0.4, math.log(1.2)])
    assert offsets[0, 1].tolist() == pytest.approx([-0.15, math.log(0.3)])
    assert torch.allclose(decode_offsets(anchors, offsets), gt[:, None].expand(1, 2, 2))


def test_decoded_moments_stay_inside_the_video():
    anchors = torch.tensor([[0.9, 0.5], [0.1, 0.2], [0.5, 0.1]])
    offsets = torch.tensor([[[1.0, 1.0], [-3.0, 0.0], [0.0, 50.0]]])
    moments = decode_offsets(anchors, offsets)[0]
    assert (moments >= 0).all() and (moments <= 1).all()
    assert (moments[:, 0] <= moments[:, 1]).all()
    assert moments[1].tolist() == [0.0, 0.0]  # centre -0.5, width 0.2: entirely before 0
    assert moments[2].tolist() == [0.0, 1.0]  # width clamped to e**4 * 0.1 > 1


def test_moment_nms_by_hand():
    moments = torch.tensor([[[0.0, 0.5], [0.05, 0.5], [0.6, 0.9], [0.1, 0.45]]])
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.6]])
    assert moment_nms_order(moments[0], 3, 0.5).tolist() == [0, 2]
    assert moment_nms_order(moments[0], 3, 0.95).tolist() == [0, 1, 2]
    kept, kept_scores = topk_moments(moments, scores, k=3, nms_thr=0.5)
    # two survive NMS; the list is filled with the best suppressed moment.
    assert torch.equal(kept[0], moments[0, [0, 2, 1]])
    assert kept_scores[0].tolist() == pytest.approx([0.9, 0.7, 0.8])
    plain, _ = topk_moments(moments[:, [3, 2, 1, 0]], scores[:, [3, 2, 1, 0]], k=2,
                            nms_thr=None)
    assert torch.equal(plain[0], moments[0, :2])


def test_modulation_ignores_padded_words():
    torch.manual_seed(0)
    layer = SemanticConditionedModulation(channels=6, word_dim=5, attn_dim=4)
    feats, words = torch.randn(2, 6, 7), torch.randn(2, 3, 5)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    out = layer(feats, words, mask)
    assert out.shape == (2, 6, 7)
    more = torch.cat([words, torch.randn(2, 2, 5)], 1)
    assert torch.allclose(layer(feats, more, torch.cat([mask, torch.zeros(2, 2)], 1)), out,
                          atol=1e-6)
    changed = words.clone()
    changed[1, 1:] = 5.0
    assert torch.allclose(layer(feats, changed, mask)[1], out[1], atol=1e-6)


def test_anchor_predictions_and_loss(glove, make_inputs):
    model = tiny_scdm(glove).train()
    assert len(model.anchors) == (8 + 4 + 2) * 3
    inputs = make_inputs([20, 5], [4, 6], length=24)
    logits, offsets = model.anchor_predictions(inputs)
    assert logits.shape == (2, 42) and offsets.shape == (2, 42, 2)
    losses = model.loss(inputs, [sample(40.0, (4.0, 12.0)), sample(10.0, (9.9, 10.0))])
    assert set(losses) == {'loss_overlap', 'loss_reg'}
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    assert model.level_convs[0].weight.grad.abs().sum() > 0
    assert model.modulations[-1].gamma.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='data samples'):
        model.loss(inputs, [])


def test_teacher_outputs_contract(glove, make_inputs):
    model = tiny_scdm(glove, teacher_topk=7)
    out = model.teacher_outputs(make_inputs([20, 5, 9], [4, 6, 1], length=24))
    assert out['kind'] == 'proposals'
    assert out['proposals'].shape == (3, 7, 2) and out['scores'].shape == (3, 7)
    proposals = out['proposals']
    assert (proposals >= 0).all() and (proposals <= 1).all()
    assert (proposals[..., 0] <= proposals[..., 1]).all()
    assert (out['scores'] >= 0).all() and not out['scores'].requires_grad
    with pytest.raises(ValueError, match='anchors'):
        tiny_scdm(glove, teacher_topk=100)


def double(inputs):
    return {k: v.double() if v.is_floating_point() else v for k, v in inputs.items()}


def test_prediction_ignores_padding_and_batch(glove, make_inputs, pad_inputs):
    # A seeded model, in float64: padding and batching change the order in which the kernels
    # sum, and two candidates whose scores are closer than that rounding may swap ranks (this
    # model's nearest scores are ~1e-5 apart, relative; float32 rounding is ~1e-7 of them).
    torch.manual_seed(0)
    model = tiny_scdm(glove).double()
    inputs = double(make_inputs([20, 6, 11], [5, 2, 7]))
    ref = model.predict_spans(inputs)
    padded = model.predict_spans(double(pad_inputs(inputs, extra_clips=9, extra_words=4)))
    assert torch.equal(ref['spans'], padded['spans'])
    assert torch.allclose(ref['scores'], padded['scores'], atol=1e-5)
    alone = model.predict_spans({k: v[1:2, :2] if k.startswith('word') else v[1:2, :6]
                                 for k, v in inputs.items()})
    assert torch.equal(alone['spans'][0], ref['spans'][1])


def test_predict_returns_ranked_moments_inside_the_video(glove, make_inputs):
    model = tiny_scdm(glove)
    inputs = make_inputs([20, 5, 13], [3, 4, 2], length=24)
    spans = model.predict_spans(inputs)['spans']
    assert spans.shape == (3, 5, 2)
    v_len = inputs['video_mask'].sum(1)
    assert (spans[..., 0] <= spans[..., 1]).all() and (spans[..., 0] >= 0).all()
    assert (spans[..., 1] < v_len[:, None]).all()
    results = model(inputs, [sample(d, (0.0, 1.0), f'v{i}#0')
                             for i, d in enumerate([40.0, 9.5, 26.0])], mode='predict')
    for result, duration in zip(results, [40.0, 9.5, 26.0]):
        moments = result.pred_moments
        assert moments.shape == (5, 2)
        assert (moments[:, 1] > moments[:, 0]).all()
        assert moments.min() >= 0 and moments.max() <= duration + 1e-6
