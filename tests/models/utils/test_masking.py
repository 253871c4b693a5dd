import pytest
import torch

from mmemtm.models.utils import (apply_mask, masked_softmax, merge_heads, multi_head_attention,
                                 split_heads, valid_lengths)


def test_masked_softmax_and_helpers():
    logits, mask = torch.randn(2, 4), torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1.]])
    probs = masked_softmax(logits, mask)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2))
    assert torch.all(probs[0, 2:] == 0)
    torch.testing.assert_close(probs[0, :2], logits[0, :2].softmax(-1))
    assert valid_lengths(mask).tolist() == [2, 4]
    assert torch.all(apply_mask(torch.ones(2, 4, 3), mask)[0, 2:] == 0)


def test_heads_round_trip_and_attention():
    x = torch.randn(2, 5, 8)
    assert split_heads(x, 2).shape == (2, 2, 5, 4)
    torch.testing.assert_close(merge_heads(split_heads(x, 2)), x)
    with pytest.raises(ValueError, match='not divisible'):
        split_heads(x, 3)
    key_mask = torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    out = multi_head_attention(x, x, x, key_mask, 1)
    scores = (x[0] @ x[0, :3].t()) / 8**0.5
    torch.testing.assert_close(out[0], scores.softmax(-1) @ x[0, :3])
