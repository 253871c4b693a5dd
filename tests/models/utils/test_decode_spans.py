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
