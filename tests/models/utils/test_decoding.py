import pytest
import torch

from mmemtm.models.utils import (decode_spans, pairwise_moment_iou, span_log_score_map,
                                  span_score_map, topk_moments)


def test_decoded_spans_are_ordered_and_inside_the_video():
    torch.manual_seed(0)
    for trial in range(20):
        v_lens = torch.randint(1, 16, (4, ))
        mask = (torch.arange(16)[None] < v_lens[:, None]).float()
        start, end = torch.randn(4, 16) * 3, torch.randn(4, 16) * 3
        start[:, -3:] = 50.0  # huge logits on padding must not matter
        out = decode_spans(start, end, mask, k=5, max_len=None if trial % 2 else 4)
        assert out['spans'].shape == (4, 5, 2) and out['scores'].shape == (4, 5)
        top = out['spans'][:, 0]
        assert torch.all(top[:, 0] <= top[:, 1]) and torch.all(top[:, 1] < v_lens)
        positive = out['scores'] > 0
        spans = out['spans'][positive]
        lens = v_lens[:, None].expand(4, 5)[positive]
        assert torch.all(spans[:, 0] <= spans[:, 1]) and torch.all(spans[:, 1] < lens)
        if trial % 2 == 0:
            assert torch.all(spans[:, 1] - spans[:, 0] < 4)
        torch.testing.assert_close(out['start_prob'].sum(-1), torch.ones(4))
        assert torch.all(out['end_prob'][mask == 0] == 0)


def test_top_span_is_the_best_of_the_score_map():
    torch.manual_seed(1)
    start, end, mask = torch.randn(3, 10), torch.randn(3, 10), torch.ones(3, 10)
    out = decode_spans(start, end, mask, k=1)
    score_map = span_score_map(start, end, mask)
    best = score_map.flatten(1).argmax(1)
    assert out['spans'][:, 0, 0].tolist() == (best // 10).tolist()
    assert out['spans'][:, 0, 1].tolist() == (best % 10).tolist()


def _best_valid_span(start, end, v_len):
    """Brute-force best (i <= j < v_len) of log p_s(i) + log p_e(j), in float64."""
    ls = torch.log_softmax(start[:v_len].double(), 0)
    le = torch.log_softmax(end[:v_len].double(), 0)
    pairs = [(float(ls[i] + le[j]), i, j) for i in range(v_len) for j in range(i, v_len)]
    return max(pairs)[1:]


@pytest.mark.parametrize('dtype, gap', [(torch.float32, 200.), (torch.float16, 30.)])
def test_confident_logits_whose_valid_products_underflow_still_decode(dtype, gap):
    # Start peaks after the end: every valid p_s * p_e is below the dtype's smallest number.
    length = 12
    start = torch.full((2, length), -gap)
    end = torch.full((2, length), -gap)
    start[0, 9], end[0, 2], end[0, 11] = 0., 0., -gap / 2
    start[1, 5], end[1, 1] = 0., 0.
    end[1, 7] = -gap / 2
    mask = torch.ones(2, length)
    mask[1, 10:] = 0
    out = decode_spans(start.to(dtype), end.to(dtype), mask.to(dtype), k=5)
    spans = out['spans']
    assert torch.all(spans[..., 0] <= spans[..., 1])
    assert torch.all(spans[0, :, 1] < length) and torch.all(spans[1, :, 1] < 10)
    for b, v_len in enumerate((length, 10)):
        assert tuple(spans[b, 0].tolist()) == _best_valid_span(start[b], end[b], v_len)


def test_fewer_valid_spans_than_k_repeat_the_last_valid_one():
    start, end, mask = torch.zeros(1, 4), torch.zeros(1, 4), torch.tensor([[1., 0., 0., 0.]])
    out = decode_spans(start, end, mask, k=3)
    assert out['spans'].tolist() == [[[0, 0], [0, 0], [0, 0]]]


def _sequential_topk(moments, scores, k, thr):
    """The greedy NMS written as the plain loop over candidates (per query), with the documented
    fill rules: suppressed valid moments after the kept ones, then the last one repeated."""
    valid = [i for i in range(len(scores)) if scores[i] > -1e30]
    kept = []
    for i in valid:
        if len(kept) == k:
            break
        if thr is None or all(pairwise_moment_iou(moments[[i, j]])[0, 1] <= thr for j in kept):
            kept.append(i)
    kept += [i for i in valid if i not in kept][:k - len(kept)]
    return kept + kept[-1:] * (k - len(kept))


@pytest.mark.parametrize('thr', [None, 0.3, 0.5, 0.7])
def test_vectorised_nms_equals_the_sequential_greedy_loop(thr):
    torch.manual_seed(2)
    for _ in range(30):
        moments = torch.rand(3, 40, 2).sort(-1).values
        scores = torch.randn(3, 40).sort(-1, descending=True).values
        scores[1, 3:] = -float('inf')  # fewer valid moments than k
        scores[2] = scores[2].round()  # ties
        got, got_scores = topk_moments(moments, scores, k=5, nms_thr=thr)
        ranked, rank = scores.topk(40, dim=1)  # the candidate order (ties as topk breaks them)
        for b in range(3):
            order = rank[b, _sequential_topk(moments[b, rank[b]], ranked[b], 5, thr)]
            assert torch.equal(got[b], moments[b, order]), (b, order)
            assert torch.equal(got_scores[b], scores[b, order])
        assert torch.all(got_scores > -1e30)


def test_nms_continues_past_the_window_of_overlapping_candidates():
    """The best 40 moments all overlap the first (more than the NMS window): the next kept
    moments come from further down the ranking, as in the sequential loop."""
    torch.manual_seed(4)
    centre = torch.rand(1, 40, 1) * 0.02 + 0.5
    cluster = torch.cat([centre - 0.2, centre + 0.2], -1)
    others = torch.rand(1, 30, 2).sort(-1).values
    moments = torch.cat([cluster, others], 1)
    scores = torch.cat([torch.linspace(10, 5, 40), torch.linspace(4, 0, 30)])[None]
    got, _ = topk_moments(moments, scores, k=5, nms_thr=0.5)
    order = _sequential_topk(moments[0], scores[0], 5, 0.5)
    assert order[0] == 0 and all(i >= 40 for i in order[1:])
    assert torch.equal(got[0], moments[0, order])


def test_topk_spans_agrees_with_decoding_every_valid_span():
    """topk_spans ranks the joint log map like a brute-force enumeration of the valid spans."""
    torch.manual_seed(3)
    start, end, mask = torch.randn(2, 30) * 2, torch.randn(2, 30) * 2, torch.ones(2, 30)
    mask[1, 17:] = 0
    out = decode_spans(start, end, mask, k=3, nms_thr=0.5, max_len=8)
    log_map = span_log_score_map(start, end, mask, max_len=8)
    for b in range(2):
        valid = torch.nonzero(torch.isfinite(log_map[b]))
        assert torch.all(valid[:, 1] - valid[:, 0] < 8) and torch.all(valid < (30, 17)[b])
        best = valid[log_map[b][valid[:, 0], valid[:, 1]].argmax()]
        assert out['spans'][b, 0].tolist() == best.tolist()
        spans = out['spans'][b].float()
        moments = torch.stack([spans[:, 0], spans[:, 1] + 1], -1)
        iou = pairwise_moment_iou(moments)
        assert torch.all(iou[~torch.eye(3, dtype=torch.bool)] <= 0.5)


def test_nan_scores_are_named_as_such():
    """NaN logits (a model with NaN weights) used to fail with 'every score is -inf'."""
    from mmemtm.models.utils.decoding import NonFiniteScoresError
    logits = torch.zeros(3, 6)
    logits[1] = float('nan')
    with pytest.raises(NonFiniteScoresError, match=r'the scores of 1 of 3 queries \(first: batch '
                       r'row 1\) are NaN: the model.s outputs hold NaN'):
        decode_spans(logits, logits, torch.ones(3, 6, dtype=torch.bool), k=2)
