import pytest
import torch
from mmaction.structures import ActionDataSample

from mmemtm.models.heads import ChannelTimeAttention, FeatureCVAE, GKDAttentionHead, foreground


def test_attention_shape_and_range():
    attention = ChannelTimeAttention(in_channels=32, temporal_size=4, mid_channels=8,
                                     spatial_size=3, resample_length=16)
    a = attention(torch.rand(2, 32, 4, 5, 5))
    assert a.shape == (2, 32, 4)
    assert bool(((a > 0) & (a < 1)).all())
    with pytest.raises(ValueError, match='temporal_size=4'):
        attention(torch.rand(2, 32, 3, 5, 5))


def test_foreground_keeps_the_feature_sum():
    f, a = torch.rand(3, 8, 2, 4, 4), torch.rand(3, 8, 2)
    fg = foreground(f, a)
    torch.testing.assert_close(fg.sum((1, 2, 3, 4)), f.sum((1, 2, 3, 4)))
    torch.testing.assert_close(foreground(f, a, normalize=False), f * a[..., None, None])


@pytest.mark.parametrize('size', [(2, 2), (5, 3)])
def test_cvae_shapes(size):
    cvae = FeatureCVAE(in_channels=16, spatial_size=2, hidden_channels=24)
    f, a = torch.rand(2, 16, 3, *size), torch.rand(2, 16, 3)
    mean, log_var = cvae.encode(f, a)
    assert mean.shape == log_var.shape == (2, 16, 3)
    mean, log_var, recon = cvae(f, a)
    assert recon.shape == f.shape
    assert bool((recon >= 0).all())
    assert cvae.generate(a, size).shape == f.shape
    assert cvae.decode(mean, a).shape == (2, 16, 3, 2, 2)
    torch.testing.assert_close(cvae(f, a, sample=False)[2], cvae.decode(mean, a, size))
    with pytest.raises(ValueError, match='attention'):
        cvae.encode(f, torch.rand(2, 16, 4))


def _samples(labels):
    return [ActionDataSample().set_gt_label(torch.tensor(label)) for label in labels]


def test_head_logits_and_losses():
    attention = dict(temporal_size=2, spatial_size=2, mid_channels=8, resample_length=8)
    head = GKDAttentionHead(5, 16, attention, cvae=dict(type='FeatureCVAE', spatial_size=2))
    head.init_weights()
    f = torch.rand(4, 16, 2, 2, 2, requires_grad=True)
    logits, a = head.forward_with_attention(f)
    assert logits.shape == (4, 5) and a.shape == (4, 16, 2)
    losses = head.loss(f, _samples([0, 1, 2, 3]))
    assert {'loss_cls', 'loss_cvae', 'top1_acc'} <= set(losses)
    # the CVAE models the features without changing them
    losses['loss_cvae'].backward()
    assert f.grad is None
    plain = GKDAttentionHead(5, 16, attention)
    assert 'loss_cvae' not in plain.loss(f, _samples([0, 1, 2, 3]))
