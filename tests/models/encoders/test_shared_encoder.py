import pytest
import torch

from mmemtm.models.encoders import SharedEncoder


def _encoder() -> SharedEncoder:
    torch.manual_seed(0)
    enc = SharedEncoder(dim=8, max_len=10)
    enc.init_weights()
    return enc.eval()


def test_one_table_and_one_conv_block_for_both_streams():
    enc = _encoder()
    x = torch.randn(2, 6, 8)
    mask = torch.ones(2, 6)
    video, query = enc(x, mask, x, mask)
    torch.testing.assert_close(video, query)
    assert enc.position.weight.shape == (10, 8)
    assert sum(p.numel() for p in enc.parameters()) == 10 * 8 + 4 * (2 * 8 + 7 * 8 + 8 * 8 + 8)


def test_query_uses_the_first_rows_of_the_table():
    enc = _encoder()
    video, query = torch.randn(1, 7, 8), torch.randn(1, 3, 8)
    v_enc, q_enc = enc(video, torch.ones(1, 7), query, torch.ones(1, 3))
    assert v_enc.shape == (1, 7, 8) and q_enc.shape == (1, 3, 8)
    q_enc.sum().backward()
    grad = enc.position.weight.grad
    assert grad[:3].abs().sum() > 0 and torch.all(grad[3:] == 0)


def test_too_long_sequence():
    with pytest.raises(ValueError, match='longer than the position table'):
        _encoder().encode(torch.zeros(1, 11, 8), torch.ones(1, 11))
