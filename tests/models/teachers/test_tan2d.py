import pytest
import torch
from mmaction.registry import MODELS

from mmemtm.models.layers import (TemporalMapConvStack, sparse_span_mask, span_feature_map,
                                  valid_span_mask)
from mmemtm.models.losses import scaled_iou_targets
from mmemtm.models.teachers.tan2d import candidate_ious
from mmemtm.structures import GroundingDataSample


def tiny_tan2d(glove, **kwargs):
    cfg = dict(type='TAN2DGrounder', vocab=glove, video_dim=16, hidden_dim=8, num_cells=8,
               map_convs=dict(type='TemporalMapConvStack', num_layers=2, kernel_size=3),
               dropout=0.0)
    cfg.update(kwargs)
    return MODELS.build(cfg).eval()


def sample(duration, gt, query_id='v#0'):
    s = GroundingDataSample()
    s.set_metainfo(dict(query_id=query_id, duration=duration, gt_time=gt))
    return s


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_span_feature_map_pools_every_span(mode):
    feats = torch.randn(2, 3, 6)
    out = span_feature_map(feats, mode)
    assert out.shape == (2, 3, 6, 6)
    for i in range(6):
        for j in range(6):
            if j < i:
                assert out[..., i, j].abs().sum() == 0
            else:
                span = feats[..., i:j + 1]
                ref = span.amax(-1) if mode == 'max' else span.mean(-1)
                assert torch.allclose(out[..., i, j], ref, atol=1e-6)


def test_sparse_span_mask_by_hand():
    mask = sparse_span_mask(8, num_dense=2)
    kept = {(i, j) for i, j in mask.nonzero().tolist()}
    assert {(i, i) for i in range(8)} <= kept and {(i, i + 1) for i in range(7)} <= kept
    # 3-4 cells: stride 2 (start and end + 1 even); 5-8 cells: stride 4.
    assert {(0, 3), (2, 5), (4, 7), (0, 7)} <= kept
    assert not {(0, 2), (1, 4), (1, 3), (0, 4), (2, 7), (0, 5)} & kept
    assert len(kept) == 8 + 7 + 3 + 1  # 1- and 2-cell spans; (0, 3), (2, 5), (4, 7); (0, 7)
    assert torch.equal(sparse_span_mask(5), torch.ones(5, 5, dtype=torch.bool).triu())


def test_valid_span_mask_limits_to_grid_length():
    mask = valid_span_mask(torch.tensor([3, 5]), 5)
    assert mask.shape == (2, 5, 5)
    assert mask[0].sum() == 6 and mask[1].sum() == 15
    assert not mask[0, :, 3:].any() and not mask[0, 3:].any()


def test_map_convs_zero_outside_the_mask():
    stack = TemporalMapConvStack(4, 6, num_layers=2, kernel_size=3)
    mask = valid_span_mask(torch.tensor([3]), 5)
    out = stack(torch.randn(1, 4, 5, 5), mask)
    assert out.shape == (1, 6, 5, 5)
    assert out[0][:, ~mask[0]].abs().sum() == 0
    with pytest.raises(ValueError, match='odd'):
        TemporalMapConvStack(4, 6, num_layers=1, kernel_size=4)


def test_candidate_iou_targets_by_hand():
    # 10 s video, 5 clips of 2 s, grid of 5 cells = clips; ground truth [2 s, 6 s].
    iou = candidate_ious([sample(10.0, (2.0, 6.0))], torch.tensor([5]), torch.tensor([5]), 5)
    target = scaled_iou_targets(iou, 0.3, 0.7)[0]
    assert iou[0, 1, 2] == pytest.approx(1.0)  # [2, 6]
    assert iou[0, 1, 1] == pytest.approx(0.5)  # [2, 4]
    assert iou[0, 0, 2] == pytest.approx(4 / 6)  # [0, 6]
    assert iou[0, 3, 4] == 0 and iou[0, 2, 1] == 0  # disjoint; end before start
    assert target[1, 2] == pytest.approx(1.0)
    assert target[1, 1] == pytest.approx(0.5)
    assert target[0, 2] == pytest.approx((4 / 6 - 0.3) / 0.4)
    assert target[0, 4] == pytest.approx(0.25)  # [0, 10]: IoU 0.4
    with pytest.raises(KeyError, match='gt_time'):
        bad = GroundingDataSample()
        bad.set_metainfo(dict(query_id='x#1', duration=3.0))
        candidate_ious([bad], torch.tensor([5]), torch.tensor([5]), 5)


def test_teacher_outputs_contract_and_masks(glove, make_inputs):
    model = tiny_tan2d(glove)
    inputs = make_inputs([20, 8, 3], [5, 2, 7], length=24)
    out = model.teacher_outputs(inputs)
    assert out['kind'] == 'map2d'
    assert out['score_map'].shape == (3, 8, 8)
    assert out['valid_len'].tolist() == [8, 8, 3]
    assert not out['score_map'].requires_grad
    valid = valid_span_mask(out['valid_len'], 8)
    assert (out['score_map'][~valid] == 0).all()
    assert ((out['score_map'][valid] > 0) & (out['score_map'][valid] < 1)).all()


def test_sparse_map_scores_only_sampled_spans(glove, make_inputs):
    model = tiny_tan2d(glove, num_dense=2)
    out = model.teacher_outputs(make_inputs([16], [4]))
    kept = sparse_span_mask(8, 2)
    assert (out['score_map'][0][~kept] == 0).all() and (out['score_map'][0][kept] > 0).all()


def test_loss_is_finite_and_trains_the_map_and_text(glove, make_inputs):
    model = tiny_tan2d(glove).train()
    inputs = make_inputs([20, 8], [5, 2])
    losses = model.loss(inputs, [sample(40.0, (4.0, 12.0)), sample(16.0, (0.0, 16.0))])
    assert set(losses) == {'loss_scaled_iou'}
    losses['loss_scaled_iou'].backward()
    assert torch.isfinite(losses['loss_scaled_iou'])
    assert model.map_convs.convs[0].weight.grad.abs().sum() > 0
    assert model.sentence_encoder.rnn.weight_ih_l0.grad.abs().sum() > 0
    assert 'sentence_encoder.glove' not in dict(model.named_parameters())
    with pytest.raises(ValueError, match='data samples'):
        model.loss(inputs, None)


def double(inputs):
    return {k: v.double() if v.is_floating_point() else v for k, v in inputs.items()}


def test_prediction_ignores_padding_and_batch(glove, make_inputs, pad_inputs):
    # A seeded model, in float64: padding and batching change the order in which the kernels
    # sum, and two candidates whose scores are closer than that rounding may swap ranks (this
    # model's nearest scores are ~1e-5 apart, relative; float32 rounding is ~1e-7 of them).
    torch.manual_seed(0)
    model = tiny_tan2d(glove).double()
    inputs = double(make_inputs([20, 6, 11], [5, 2, 7]))
    ref = model.predict_spans(inputs)
    padded = model.predict_spans(double(pad_inputs(inputs, extra_clips=9, extra_words=4)))
    assert torch.equal(ref['spans'], padded['spans'])
    assert torch.allclose(ref['scores'], padded['scores'], atol=1e-5)
    alone = model.predict_spans({k: v[1:2, :2] if k.startswith('word') else v[1:2, :6]
                                 for k, v in inputs.items()})
    assert torch.equal(alone['spans'][0], ref['spans'][1])
    assert torch.allclose(model.teacher_outputs(inputs)['score_map'],
                          model.teacher_outputs(double(pad_inputs(inputs, 3, 2)))['score_map'],
                          atol=1e-5)


def test_predict_returns_ranked_moments_inside_the_video(glove, make_inputs):
    model = tiny_tan2d(glove)
    inputs = make_inputs([20, 5, 13], [3, 4, 2], length=24)
    spans = model.predict_spans(inputs)['spans']
    assert spans.shape == (3, 5, 2)
    v_len = inputs['video_mask'].sum(1)
    assert (spans[..., 0] <= spans[..., 1]).all() and (spans[..., 0] >= 0).all()
    assert (spans[..., 1] < v_len[:, None]).all()
    samples = [sample(d, (0.0, 1.0), f'v{i}#0') for i, d in enumerate([40.0, 9.5, 26.0])]
    results = model(inputs, samples, mode='predict')
    for result, duration in zip(results, [40.0, 9.5, 26.0]):
        moments = result.pred_moments
        assert moments.shape == (5, 2) and result.pred_scores.shape == (5, )
        assert (moments[:, 1] > moments[:, 0]).all()
        assert moments.min() >= 0 and moments.max() <= duration + 1e-6
        assert (result.pred_scores[:-1] >= result.pred_scores[1:]).all()
