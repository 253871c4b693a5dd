import pytest
import torch

from mmemtm.models.utils import decode_spans, span_score_map


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
