import pytest
import torch

from mmemtm.models.utils import (NEG_INF, apply_mask, masked_softmax, merge_heads,
                                 multi_head_attention, split_heads, valid_lengths)
from mmemtm.models.utils.masking import mask_bias


def test_masked_softmax_and_helpers():
    logits, mask = torch.randn(2, 4), torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1.]])
    probs = masked_softmax(logits, mask)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2))
    assert torch.all(probs[0, 2:] == 0)
    torch.testing.assert_close(probs[0, :2], logits[0, :2].softmax(-1))
    assert valid_lengths(mask).tolist() == [2, 4]
    assert torch.all(apply_mask(torch.ones(2, 4, 3), mask)[0, 2:] == 0)


@pytest.mark.parametrize('mask_dtype', [torch.float32, torch.bool, torch.int64])
def test_the_added_bias_gives_the_probabilities_of_a_filled_softmax(mask_dtype):
    """The padded scores get NEG_INF added instead of filled in: same probabilities, also for a
    row with no valid position (uniform) and for large scores."""
    logits = torch.randn(3, 4, 6) * torch.tensor([1.0, 1e3, 1e6])[:, None, None]
    mask = (torch.rand(3, 1, 6) > 0.4).to(mask_dtype)
    mask[0] = 0
    filled = torch.softmax(logits.masked_fill(mask == 0, NEG_INF), dim=-1)
    torch.testing.assert_close(masked_softmax(logits, mask), filled, rtol=0, atol=0)
    torch.testing.assert_close(masked_softmax(logits, mask)[0], torch.full((4, 6), 1 / 6))


def test_mask_bias_stays_finite_in_half_precision():
    bias = mask_bias(torch.tensor([1.0, 0.0]), torch.float16)
    assert bias.tolist() == [0.0, torch.finfo(torch.float16).min]
    probs = masked_softmax(torch.zeros(2, dtype=torch.float16), torch.tensor([1.0, 0.0]))
    assert probs.tolist() == [1.0, 0.0]


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
