"""Parts of staged KD: the cascade order, the loss balancing, pseudo-label refinement."""
import pytest
import torch

from mmemtm.models.distillers.recognition import CascadeSchedule, PseudoLabelBank, balance_weights

from recognition_kd_helpers import noisy_and_true_labels


def test_cascade_schedule_order():
    cumulative = CascadeSchedule((0, 2, 4, 6))
    assert [cumulative.active(e) for e in range(8)] == [
        [0], [0], [0, 1], [0, 1], [0, 1, 2], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3]]
    single = CascadeSchedule((0, 2, 4, 6), mode='single')
    assert [single.active(e) for e in (0, 1, 2, 5, 9)] == [[0], [0], [1], [2], [3]]
    assert CascadeSchedule((1, 1)).active(0) == []
    for bad in ((2, 1), (-1, 0), ()):
        with pytest.raises(ValueError, match='non-decreasing'):
            CascadeSchedule(bad)
    with pytest.raises(ValueError, match='cascade mode'):
        CascadeSchedule((0, 1), mode='reverse')


def test_balance_weights():
    d = torch.tensor([0.1, 0.5, 2.0])
    w = balance_weights(d, 'distribution', 1.0)
    assert float(w.sum()) == pytest.approx(3.0)
    assert w[2] > w[1] > w[0]
    torch.testing.assert_close(balance_weights(d, 'uniform', 1.0), torch.ones(3))


def test_pseudo_labels_move_towards_the_true_labels():
    noisy, true = noisy_and_true_labels()
    assert 0.25 < float((noisy != true).float().mean()) < 0.55
    bank = PseudoLabelBank(len(noisy), 10, momentum=0.3)
    indices = torch.arange(len(noisy))
    before = bank.targets(indices, noisy).argmax(1)
    assert torch.equal(before, noisy)
    g = torch.Generator().manual_seed(0)
    # an imperfect teacher: right on 80% of the samples, uniform-ish otherwise
    logits = torch.randn(len(noisy), 10, generator=g)
    good = torch.rand(len(noisy), generator=g) < 0.8
    logits[good, true[good]] += 4.0
    agreement = [float((bank.labels.argmax(1) == true).float().mean())]
    for _ in range(5):
        bank.update(indices, logits, logits, epoch=0)
        agreement.append(float((bank.labels.argmax(1) == true).float().mean()))
    assert agreement[-1] > agreement[0] + 0.15 and agreement[-1] >= 0.75
    torch.testing.assert_close(bank.labels.sum(1), torch.ones(len(noisy)))


def test_pseudo_labels_wait_for_start_epoch_and_check_indices():
    bank = PseudoLabelBank(4, 3, momentum=0.5, start_epoch=2)
    bank.targets(torch.arange(4), torch.tensor([0, 1, 2, 0]))
    before = bank.labels.clone()
    bank.update(torch.arange(4), torch.randn(4, 3), torch.randn(4, 3), epoch=1)
    torch.testing.assert_close(bank.labels, before)
    with pytest.raises(IndexError, match='num_samples'):
        bank.targets(torch.tensor([4]), torch.tensor([0]))
