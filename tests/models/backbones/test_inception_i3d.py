import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

import mmemtm  # noqa: F401
from mmemtm.models.backbones import (Conv3dSame, InceptionI3D, MaxPool3dSame, OffsetBatchNorm3d,
                                     tf_same_padding)


@pytest.mark.parametrize('size,kernel,stride,expected', [
    (224, 7, 2, (2, 3)),   # Conv3d_1a_7x7 on 224 pixels: odd total, extra pixel after
    (24, 7, 2, (2, 3)),    # ... and on 24 frames
    (112, 3, 2, (0, 1)),   # MaxPool3d_2a_3x3
    (5, 3, 1, (1, 1)),
    (7, 2, 2, (0, 1)),     # MaxPool3d_5a_2x2 on an odd size
    (8, 2, 2, (0, 0)),
    (9, 1, 1, (0, 0)),
    (1, 7, 2, (3, 3)),
])
def test_tf_same_padding(size, kernel, stride, expected):
    assert tf_same_padding(size, kernel, stride) == expected
    before, after = expected
    assert (size + before + after - kernel) // stride + 1 == -(-size // stride)


def test_conv3d_same_matches_explicit_tf_padding():
    torch.manual_seed(0)
    conv = Conv3dSame(2, 3, (3, 5, 2), stride=(2, 2, 1))
    x = torch.randn(1, 2, 5, 8, 7)
    y = conv(x)
    assert y.shape == (1, 3, 3, 4, 7)
    # T: 5 -> total 2 (1, 1); H: 8 -> total 3 (1, 2); W: 7 -> total 1 (0, 1)
    expected = F.conv3d(F.pad(x, (0, 1, 1, 2, 1, 1)), conv.weight, None, (2, 2, 1))
    torch.testing.assert_close(y, expected)


def test_conv3d_same_symmetric_padding_equals_padded_input():
    torch.manual_seed(0)
    conv = Conv3dSame(2, 4, 3, bias=True)
    x = torch.randn(2, 2, 4, 6, 5)
    expected = F.conv3d(F.pad(x, (1, 1) * 3), conv.weight, conv.bias)
    torch.testing.assert_close(conv(x), expected)


def _tf_max_pool_reference(x: np.ndarray, kernel, stride) -> np.ndarray:
    """Brute-force TF "SAME" max-pool of [T, H, W]: windows only see real elements."""
    pads = [tf_same_padding(s, k, st) for s, k, st in zip(x.shape, kernel, stride)]
    out_shape = [-(-s // st) for s, st in zip(x.shape, stride)]
    out = np.empty(out_shape, dtype=x.dtype)
    for idx in itertools.product(*[range(n) for n in out_shape]):
        lo = [i * st - p[0] for i, st, p in zip(idx, stride, pads)]
        sl = tuple(slice(max(a, 0), a + k) for a, k in zip(lo, kernel))
        out[idx] = x[sl].max()
    return out


@pytest.mark.parametrize('kernel,stride,shape', [
    ((1, 3, 3), (1, 2, 2), (3, 7, 6)),
    ((3, 3, 3), (2, 2, 2), (5, 5, 4)),
    ((2, 2, 2), (2, 2, 2), (3, 5, 5)),
    ((3, 3, 3), (1, 1, 1), (2, 4, 3)),
])
def test_max_pool_same_pads_with_minus_inf(kernel, stride, shape):
    # All values negative: zero padding would put zeros into the border outputs.
    x = -1.0 - torch.rand(1, 1, *shape)
    y = MaxPool3dSame(kernel, stride)(x)
    expected = _tf_max_pool_reference(x[0, 0].numpy(), kernel, stride)
    assert y.shape[2:] == expected.shape
    np.testing.assert_allclose(y[0, 0].numpy(), expected)
    assert (y < 0).all()


def test_offset_batch_norm_has_offset_no_scale():
    bn = OffsetBatchNorm3d(4)
    assert bn.eps == 1e-3 and bn.weight is None
    assert set(bn.state_dict()) == {'bias', 'running_mean', 'running_var', 'num_batches_tracked'}
    bn.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
    bn.running_var.copy_(torch.tensor([1.0, 4.0, 0.25, 9.0]))
    with torch.no_grad():
        bn.bias.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    bn.eval()
    x = torch.randn(2, 4, 3, 2, 2)
    expected = ((x - bn.running_mean.view(1, 4, 1, 1, 1))
                / torch.sqrt(bn.running_var.view(1, 4, 1, 1, 1) + 1e-3)
                + bn.bias.view(1, 4, 1, 1, 1))
    torch.testing.assert_close(bn(x), expected)


def test_inception_i3d_registered_and_feature_shapes():
    model = MODELS.build(dict(type='InceptionI3D', num_classes=0)).eval()
    assert isinstance(model, InceptionI3D)
    with torch.no_grad():
        feats = model(torch.rand(2, 3, 9, 64, 64) * 2 - 1)
    # T: 9 -> 5 (stride 2) -> 3 (MaxPool 4a) -> 2 (MaxPool 5a); H, W: 64 / 32.
    assert feats.shape == (2, 1024, 2, 2, 2)
    with pytest.raises(RuntimeError, match='num_classes=0'):
        model.classify(feats)
    with pytest.raises(ValueError, match=r'\[B, 3, T, H, W\]'):
        model(torch.zeros(1, 4, 8, 32, 32))


def test_inception_i3d_size_matches_deepmind():
    model = InceptionI3D(num_classes=400)
    assert sum(p.numel() for p in model.parameters()) == 12_689_984


def test_classify_averages_logits_over_time():
    torch.manual_seed(0)
    model = InceptionI3D(num_classes=5).eval()
    feats = torch.randn(2, 1024, 3, 7, 7)
    logits = model.classify(feats)
    assert logits.shape == (2, 5)
    conv = model.logits.conv3d_0c_1x1.conv
    per_time = [F.conv3d(feats[:, :, t:t + 2].mean(dim=(2, 3, 4), keepdim=True), conv.weight,
                         conv.bias).flatten(1) for t in range(2)]
    torch.testing.assert_close(logits, (per_time[0] + per_time[1]) / 2)
    with pytest.raises(ValueError, match='2x7x7'):
        model.classify(torch.randn(1, 1024, 1, 7, 7))


@pytest.mark.slow
def test_pretrained_weights_classify_kinetics_demo(i3d_checkpoint, shared_data):
    from mmengine.runner import load_checkpoint

    from mmemtm.apis.feature_extraction import ClipFeatureRecipe, DecordVideo, frames_to_clips
    model = InceptionI3D(num_classes=400).eval()
    load_checkpoint(model, i3d_checkpoint, map_location='cpu', strict=True, logger='silent')
    recipe = ClipFeatureRecipe()
    video = DecordVideo(str(shared_data / 'videos' / 'kinetics_demo' / 'demo.mp4'),
                        recipe.short_side, recipe.crop_size)
    clip = frames_to_clips(video.frames(np.arange(64))[None])
    assert clip.shape == (1, 3, 64, 224, 224)
    with torch.no_grad():
        feats, logits = model(clip, return_logits=True)
    assert feats.shape == (1, 1024, 8, 7, 7)
    labels = (shared_data / 'videos' / 'kinetics_demo' / 'label_map_k400.txt').read_text(
    ).splitlines()
    probs = logits.softmax(dim=-1)[0]
    assert labels[int(probs.argmax())] == 'arm wrestling'
    assert float(probs.max()) > 0.99
