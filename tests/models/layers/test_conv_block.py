import pytest
import torch
import torch.nn.functional as F

from mmemtm.models.layers import ConvBlock


def _block(**kwargs) -> ConvBlock:
    torch.manual_seed(0)
    block = ConvBlock(dim=8, **kwargs)
    block.init_weights()
    return block


def test_structure_and_init():
    block = _block()
    assert len(block.norms) == len(block.depthwise) == len(block.pointwise) == 4
    dw = block.depthwise[0]
    assert dw.weight.shape == (8, 1, 7) and dw.bias is None and dw.padding == (3, )
    assert all(torch.all(pw.bias == 0) for pw in block.pointwise)
    assert all(torch.all(n.weight == 1) and n.eps == 1e-6 for n in block.norms)


def test_padding_does_not_leak():
    block = _block(drop_rate=0.2).eval()
    x, mask = torch.randn(2, 6, 8), torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6]).float()
    out = block(x, mask)
    assert out.shape == (2, 6, 8) and torch.all(out[0, 4:] == 0)
    garbage = torch.cat([x, 100 * torch.randn(2, 5, 8)], 1)
    garbage[0, 4:6] = -50.0
    longer = block(garbage, F.pad(mask, (0, 5)))
    torch.testing.assert_close(longer[:, :6], out)


def test_residual_layers_change_the_input():
    block = _block().eval()
    x = torch.randn(1, 5, 8)
    assert not torch.allclose(block(x, torch.ones(1, 5)), x)


def test_even_kernel_rejected():
    with pytest.raises(ValueError, match='odd'):
        ConvBlock(8, kernel_size=6)
