import pytest
import torch
import torch.nn.functional as F

from mmemtm.models.layers import DualAttentionBlock


def _block(**kwargs) -> DualAttentionBlock:
    torch.manual_seed(0)
    block = DualAttentionBlock(dim=8, num_heads=2, **kwargs)
    block.init_weights()
    return block.eval()


def test_shapes_and_parameters():
    block = _block()
    x, y = torch.randn(2, 6, 8), torch.randn(2, 3, 8)
    out = block(x, y, torch.ones(2, 6), torch.ones(2, 3))
    assert out.shape == (2, 6, 8)
    linears = [m for m in block.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 16
    assert sum(m.bias is None for m in linears) == 2
    n_params = sum(p.numel() for p in block.parameters())
    assert n_params == 16 * 64 + 14 * 8 + 3 * 16


def test_padding_of_both_inputs_is_ignored():
    block = _block(drop_rate=0.3)
    x, y = torch.randn(2, 6, 8), torch.randn(2, 3, 8)
    x_mask, y_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6]).float(), torch.tensor(
        [[1, 1, 0], [1, 1, 1.]])
    out = block(x, y, x_mask, y_mask)
    assert torch.all(out[0, 4:] == 0)
    x_pad = torch.cat([x, 30 * torch.randn(2, 3, 8)], 1)
    x_pad[0, 4:6] = 12.0
    y_pad = torch.cat([y, -30 * torch.ones(2, 2, 8)], 1)
    padded = block(x_pad, y_pad, F.pad(x_mask, (0, 3)), F.pad(y_mask, (0, 2)))
    torch.testing.assert_close(padded[:, :6], out)


def test_cross_input_matters():
    block = _block()
    x = torch.randn(1, 4, 8)
    a = block(x, torch.randn(1, 3, 8), torch.ones(1, 4), torch.ones(1, 3))
    b = block(x, torch.randn(1, 3, 8), torch.ones(1, 4), torch.ones(1, 3))
    assert not torch.allclose(a, b)


def test_heads_must_divide_dim():
    with pytest.raises(ValueError, match='not divisible'):
        DualAttentionBlock(dim=10, num_heads=4)
