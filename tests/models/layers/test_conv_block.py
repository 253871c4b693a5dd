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


def test_the_height_one_2d_convolutions_compute_the_1d_layers():
    """The block applies its ``nn.Conv1d`` weights as 2-D convolutions: same outputs and
    gradients as running the 1-D modules themselves.

    In float64: the two run different convolution kernels, which may sum in another order (by
    CPU), and the outputs reach ~5, where float32 rounding alone is ~5e-7 per operation."""
    block = _block(kernel_size=5).double().eval()
    x = torch.randn(2, 9, 8, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1] * 7 + [0] * 2, [1] * 9]).double()
    expected = x
    for norm, depthwise, pointwise in zip(block.norms, block.depthwise, block.pointwise):
        h = (norm(expected) * mask[..., None]).transpose(1, 2)
        expected = expected + torch.relu(pointwise(depthwise(h))).transpose(1, 2)
    expected = expected * mask[..., None]
    out = block(x, mask)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    grad, = torch.autograd.grad(out.sum(), x)
    expected_grad, = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(grad, expected_grad, rtol=0, atol=1e-12)
