import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from mmemtm.models.losses import (CVAELoss, FeatureDistributionLoss, LogitKDLoss, RampedMSELoss,
                                  SubstageCorrelationLoss, gaussian_kl, linear_ramp)


def test_gaussian_kl_matches_closed_form():
    torch.manual_seed(0)
    mean, log_var, prior = torch.randn(3, 8, 4), torch.randn(3, 8, 4), torch.rand(3, 8, 4)
    expected = kl_divergence(Normal(mean, (0.5 * log_var).exp()), Normal(prior, 1.0))
    torch.testing.assert_close(gaussian_kl(mean, log_var, prior), expected)
    # KL(N(m, 1) || N(m, 1)) = 0.5 * (exp(0) + 0 - 1 - 0): 0 up to the rounding of exp
    assert float(gaussian_kl(prior, torch.zeros_like(prior), prior).abs().max()) <= 1e-7


def test_cvae_loss_is_mse_plus_weighted_kl():
    torch.manual_seed(0)
    recon, target = torch.rand(2, 4, 3, 2, 2), torch.rand(2, 4, 3, 2, 2)
    mean, log_var, prior = torch.randn(2, 4, 3), torch.randn(2, 4, 3), torch.rand(2, 4, 3)
    loss = CVAELoss(kl_weight=0.1, loss_weight=2.0)(recon, target, mean, log_var, prior)
    expected = 2.0 * (F.mse_loss(recon, target) + 0.1 * gaussian_kl(mean, log_var, prior).mean())
    torch.testing.assert_close(loss, expected)


def test_logit_kd_loss():
    torch.manual_seed(0)
    s, t = torch.randn(4, 6), torch.randn(4, 6)
    loss = LogitKDLoss(temperature=2.0, loss_weight=0.5)(s, t)
    p_t = F.softmax(t / 2, -1)
    expected = 0.5 * 4 * (p_t * (p_t.log() - F.log_softmax(s / 2, -1))).sum(-1).mean()
    torch.testing.assert_close(loss, expected)
    assert float(LogitKDLoss()(t, t)) == pytest.approx(0.0, abs=1e-6)


def test_reconstruction_ramp():
    assert [linear_ramp(e, 20) for e in (0, 9, 19, 30)] == [0.05, 0.5, 1.0, 1.0]
    assert linear_ramp(0, 0) == 1.0
    pred, target = torch.ones(2, 3), torch.zeros(2, 3)
    loss = RampedMSELoss(loss_weight=0.5, ramp_epochs=20)
    assert float(loss(pred, target, epoch=0)) == pytest.approx(0.5 / 20)
    assert float(loss(pred, target, epoch=19)) == pytest.approx(0.5)


@pytest.mark.parametrize('mode', ['batch', 'pearson'])
def test_substage_correlation_compares_different_widths(mode):
    torch.manual_seed(0)
    loss = SubstageCorrelationLoss(mode=mode)
    teacher = torch.rand(4, 16, 4, 4, 4)
    assert float(loss(teacher, teacher)) == pytest.approx(0.0, abs=1e-6)
    student = torch.rand(4, 8, 4, 8, 8, requires_grad=True)
    value = loss(student, teacher)
    assert float(value) > 0
    value.backward()
    assert student.grad is not None


def test_feature_distribution_loss():
    torch.manual_seed(0)
    loss = FeatureDistributionLoss()
    teacher = torch.rand(2, 16, 2, 4, 4)
    assert float(loss(teacher, teacher)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(torch.rand(2, 4, 2, 8, 8), teacher)) > 0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_logit_kd_in_half_precision(dtype):
    # mixed-precision logits (an fp16 AMP step): finite, and the float32 value up to rounding
    g = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(4, 10, generator=g) * 5, torch.randn(4, 10, generator=g) * 5
    loss = LogitKDLoss(temperature=4.0)
    expected = loss(student, teacher)
    half = student.to(dtype).requires_grad_()
    got = loss(half, teacher.to(dtype))
    assert torch.isfinite(got) and float(got) == pytest.approx(float(expected), rel=0.05)
    got.backward()
    assert torch.isfinite(half.grad).all()
