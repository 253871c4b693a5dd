import pytest
import torch

from mmemtm.models.backbones import (InceptionI3D, TopHeavyInceptionI3D, deflate_kernel,
                                     deflate_state_dict)
from mmemtm.models.backbones.top_heavy_i3d import CONV_LAYERS


def _temporal_kernels(model):
    return {name: m.kernel_size[0] for name, m in model.named_modules()
            if isinstance(m, torch.nn.Conv3d)}


def test_full_3d_width_1_is_inception_i3d():
    ours, theirs = TopHeavyInceptionI3D('conv3d_1a_7x7'), InceptionI3D(num_classes=0)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in theirs.state_dict().items()}


def test_top_heavy_kernels_are_2d_below_mixed_4d():
    model = TopHeavyInceptionI3D('mixed_4d', width=0.125)
    kernels = _temporal_kernels(model)
    for name, kt in kernels.items():
        layer = name.split('.')[0]
        if CONV_LAYERS.index(layer) < CONV_LAYERS.index('mixed_4d'):
            assert kt == 1, name
        elif name.endswith('conv3d_0b_3x3.conv'):
            assert kt == 3, name
    assert model.maxpool3d_4a_3x3.kernel_size == (1, 3, 3)
    assert model.maxpool3d_5a_2x2.kernel_size == (2, 2, 2)
    assert model.mixed_4d.branch_3.maxpool3d_0a_3x3.kernel_size == (3, 3, 3)
    assert model.mixed_4c.branch_3.maxpool3d_0a_3x3.kernel_size == (1, 3, 3)


@pytest.mark.parametrize('first_3d', ['conv3d_1a_7x7', 'mixed_4d', 'mixed_5c'])
def test_output_shape_matches_i3d(first_3d):
    model = TopHeavyInceptionI3D(first_3d, width=0.125)
    out = model(torch.randn(2, 3, 16, 64, 64))
    assert out.shape == (2, model.out_channels, 2, 2, 2)
    assert model.out_channels == 128


def test_shallower_network():
    model = TopHeavyInceptionI3D('mixed_4d', width=0.125, last_layer='mixed_4f')
    assert not hasattr(model, 'mixed_5b')
    out = model(torch.randn(1, 3, 16, 32, 32))
    assert out.shape == (1, model.out_channels, 4, 2, 2) and model.out_channels == 104


def test_norm_eval_keeps_batch_norm_statistics():
    model = TopHeavyInceptionI3D('mixed_4d', width=0.125, norm_eval=True).train()
    before = model.conv3d_1a_7x7.bn.running_mean.clone()
    model(torch.randn(2, 3, 8, 32, 32))
    torch.testing.assert_close(model.conv3d_1a_7x7.bn.running_mean, before)
    assert model.training and not model.conv3d_1a_7x7.bn.training


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='first_3d'):
        TopHeavyInceptionI3D('mixed_9z')
    with pytest.raises(ValueError, match='last_layer'):
        TopHeavyInceptionI3D(last_layer='conv3d_2c_3x3')
    with pytest.raises(ValueError, match='expects clips'):
        TopHeavyInceptionI3D(width=0.125)(torch.randn(3, 8, 32, 32))


def test_deflate_kernel_sum_and_centre():
    k = torch.arange(2 * 1 * 3 * 2 * 2, dtype=torch.float).view(2, 1, 3, 2, 2)
    torch.testing.assert_close(deflate_kernel(k, 'sum'), k.sum(2, keepdim=True))
    torch.testing.assert_close(deflate_kernel(k, 'centre'), k[:, :, 1:2])
    with pytest.raises(ValueError, match='deflate mode'):
        deflate_kernel(k, 'max')


def test_deflated_conv_equals_3d_conv_on_a_static_clip():
    source = TopHeavyInceptionI3D('conv3d_1a_7x7', width=0.125)
    target = TopHeavyInceptionI3D('mixed_4d', width=0.125)
    weights, problems = deflate_state_dict(source.state_dict(), target.state_dict())
    assert problems == []
    target.load_state_dict(weights)
    static = torch.randn(1, 3, 1, 32, 32).expand(1, 3, 20, 32, 32).contiguous()
    conv3d, conv2d = source.conv3d_1a_7x7.conv, target.conv3d_1a_7x7.conv
    # away from the temporal borders (zero padding) a static clip gives the same response
    torch.testing.assert_close(conv2d(static)[:, :, 3:7], conv3d(static)[:, :, 3:7],
                               rtol=1e-4, atol=1e-4)


def test_deflate_from_checkpoint(tmp_path):
    source = TopHeavyInceptionI3D('conv3d_1a_7x7', width=0.125)
    path = tmp_path / 'i3d.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}},
               path)
    model = TopHeavyInceptionI3D('mixed_4d', width=0.125,
                                 deflate=dict(checkpoint=str(path), prefix='backbone.'))
    model.init_weights()
    w = source.state_dict()['mixed_3b.branch_1.conv3d_0b_3x3.conv.weight']
    torch.testing.assert_close(model.mixed_3b.branch_1.conv3d_0b_3x3.conv.weight,
                               w.sum(2, keepdim=True))
    torch.testing.assert_close(model.mixed_5c.branch_1.conv3d_0b_3x3.conv.weight,
                               source.mixed_5c.branch_1.conv3d_0b_3x3.conv.weight)
    wide = TopHeavyInceptionI3D('mixed_4d', width=0.25, deflate=dict(checkpoint=str(path),
                                                                       prefix='backbone.'))
    with pytest.raises(ValueError, match=r'cannot deflate .*i3d.pth.*shape of conv3d_1a_7x7'):
        wide.init_weights()
