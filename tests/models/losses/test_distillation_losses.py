import numpy as np
import pytest
import torch

from mmemtm.models.losses import hidden_alignment_loss, label_kd_loss


def np_softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_reference_mode_reproduces_the_worked_example():
    """docs/method.md §5.4, one sample, L = 4 with one padded clip, T = 3."""
    s = np.array([2.0, -1.0, 0.5, 7.0])  # the padded clip holds garbage
    t = np.array([0.9, 0.1, 0.4, 0.0])
    m = np.array([1.0, 1.0, 1.0, 0.0])
    z_s = s * m / np.linalg.norm(s * m)
    z_t = t / np.linalg.norm(t)
    q_s = np_softmax(np_softmax(z_s / 3.0))
    q_t = np_softmax(np_softmax(z_t / 3.0))
    expected = np.sum(q_t * np.log(q_t / q_s))
    got = label_kd_loss(torch.from_numpy(s[None]), torch.from_numpy(t[None]),
                        torch.from_numpy(m[None]), 3.0,
                        mode='reference')
    assert float(got) == pytest.approx(expected, rel=1e-9)
    assert 0 < float(got) < 1e-3  # the double softmax makes it almost vanish


def test_standard_mode_is_masked_kl_times_t_squared():
    s = torch.tensor([[2.0, -1.0, 0.5, 7.0]])
    t = torch.tensor([[0.9, 0.1, 0.4, -3.0]])
    m = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    p_t = np_softmax(np.array([0.9, 0.1, 0.4]) / 2.0)
    p_s = np_softmax(np.array([2.0, -1.0, 0.5]) / 2.0)
    expected = np.sum(p_t * np.log(p_t / p_s)) * 4.0
    assert float(label_kd_loss(s, t, m, 2.0)) == pytest.approx(expected, rel=1e-5)
    assert float(label_kd_loss(t, t, m, 2.0)) == pytest.approx(0.0, abs=1e-7)


def test_standard_mode_detaches_the_teacher_and_reference_does_not():
    s = torch.randn(2, 5, requires_grad=True)
    t = torch.randn(2, 5, requires_grad=True)
    m = torch.ones(2, 5)
    label_kd_loss(s, t, m, 1.0).backward()
    assert t.grad is None and s.grad.abs().sum() > 0
    label_kd_loss(s, t, m, 1.0, mode='reference').backward()
    assert t.grad is not None


def test_unknown_mode():
    with pytest.raises(ValueError, match='KD mode'):
        label_kd_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.ones(1, 2), 1.0, mode='x')


def test_hidden_alignment_ignores_padding_and_detaches_teacher():
    a = torch.randn(2, 6, 4, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    mask = torch.tensor([[1.0] * 6, [1.0] * 4 + [0.0] * 2])
    assert hidden_alignment_loss(a, b, mask).item() == pytest.approx(0.0, abs=1e-7)
    c = b.detach().clone()
    c[1, 4:] = 100.0  # padding only
    assert hidden_alignment_loss(a, c, mask).item() == pytest.approx(0.0, abs=1e-7)
    loss = hidden_alignment_loss(a, torch.randn(2, 6, 4, requires_grad=True), mask)
    loss.backward()
    assert a.grad.abs().sum() > 0 and b.grad is None


HALF_TYPES = [torch.float16, torch.bfloat16]


def _padded_logits(seed: int = 0):
    """Student and teacher logits ``[3, 8]`` (magnitudes up to ~20) and a mask with padding."""
    g = torch.Generator().manual_seed(seed)
    student, teacher = (torch.randn(3, 8, generator=g) * 6 for _ in range(2))
    mask = torch.ones(3, 8)
    mask[0, 5:] = 0
    mask[1, 2:] = 0
    return student, teacher, mask


def _close_to_float32(got: torch.Tensor, expected: torch.Tensor) -> None:
    # half-precision inputs: bf16 keeps ~3 significant digits, fp16 ~4
    assert torch.isfinite(got).all()
    assert float(got) == pytest.approx(float(expected), rel=0.05, abs=0.02)


@pytest.mark.parametrize('dtype', HALF_TYPES)
@pytest.mark.parametrize('temperature', [0.5, 3.0])
def test_standard_label_kd_in_half_precision(dtype, temperature):
    # padded clips are masked with the dtype's lowest value: -1e30 does not fit float16
    student, teacher, mask = _padded_logits()
    expected = label_kd_loss(student, teacher, mask, temperature)
    half = student.to(dtype).requires_grad_()
    got = label_kd_loss(half, teacher.to(dtype), mask.to(dtype), temperature)
    _close_to_float32(got, expected)
    got.backward()
    assert torch.isfinite(half.grad).all()
    assert float(half.grad[mask == 0].abs().max()) == 0.0


@pytest.mark.parametrize('dtype', HALF_TYPES)
def test_distillation_losses_under_autocast(dtype):
    # mixed precision: the logits come out of a linear layer in half precision
    student, teacher, mask = _padded_logits(1)
    layer = torch.nn.Linear(8, 8)
    hidden = torch.randn(3, 8, 4, generator=torch.Generator().manual_seed(2))
    expected_kd = label_kd_loss(layer(student), teacher, mask, 3.0)
    expected_hidden = hidden_alignment_loss(layer(hidden.transpose(1, 2)).transpose(1, 2),
                                            hidden.flip(0), mask)
    with torch.autocast('cpu', dtype=dtype):
        kd = label_kd_loss(layer(student), teacher, mask, 3.0)
        aligned = hidden_alignment_loss(layer(hidden.transpose(1, 2)).transpose(1, 2),
                                        hidden.flip(0), mask)
    assert layer(student).dtype == torch.float32  # autocast is off again
    _close_to_float32(kd, expected_kd)
    _close_to_float32(aligned, expected_hidden)
    (kd + aligned).backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
