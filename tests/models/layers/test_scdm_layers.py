"""SCDM's semantic conditioned modulation: padded words get no attention, in any precision."""
import pytest
import torch

from mmemtm.models.layers.scdm_layers import SemanticConditionedModulation


def _inputs():
    g = torch.Generator().manual_seed(0)
    feats, words = torch.randn(2, 8, 6, generator=g), torch.randn(2, 5, 4, generator=g)
    word_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    return feats, words, word_mask


def test_padded_words_do_not_change_the_output():
    torch.manual_seed(0)
    layer = SemanticConditionedModulation(8, 4, attn_dim=16)
    feats, words, word_mask = _inputs()
    changed = words.clone()
    changed[0, 3:] = 100.0
    torch.testing.assert_close(layer(feats, changed, word_mask), layer(feats, words, word_mask))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_matches_float32(dtype):
    # the padding is masked with the dtype's lowest value (-1e30 does not fit float16)
    torch.manual_seed(0)
    layer = SemanticConditionedModulation(8, 4, attn_dim=16)
    feats, words, word_mask = _inputs()
    expected = layer(feats, words, word_mask)
    with torch.autocast('cpu', dtype=dtype):
        got = layer(feats, words, word_mask)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.float(), expected, rtol=0.05, atol=0.1)
