"""The losses of the weakly-supervised distillation: map divergences and boundary distillation."""
import pytest
import torch

from mmemtm.models.losses import BoundaryDistillLoss, MapDivergenceLoss, moment_iou


def distributions(seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[1.0] * 6 + [0.0] * 2, [1.0] * 8])
    p = torch.rand(2, 8, generator=gen) * mask
    return p / p.sum(1, keepdim=True), mask


@pytest.mark.parametrize('divergence', ['kl', 'js'])
def test_map_divergence_is_zero_at_the_target_and_only_the_prediction_learns(divergence):
    target, mask = distributions(0)
    pred, _ = distributions(1)
    loss = MapDivergenceLoss(divergence, loss_weight=2.0)
    assert loss(target, target, mask).abs() < 1e-6
    pred.requires_grad_(True)
    target.requires_grad_(True)
    value = loss(pred, target, mask)
    assert value > 0
    value.backward()
    assert pred.grad.abs().sum() > 0 and target.grad is None


def test_js_is_symmetric_and_kl_is_not():
    a, mask = distributions(2)
    b, _ = distributions(3)
    js, kl = MapDivergenceLoss('js'), MapDivergenceLoss('kl')
    assert torch.allclose(js(a, b, mask), js(b, a, mask), atol=1e-6)
    assert not torch.allclose(kl(a, b, mask), kl(b, a, mask), atol=1e-4)
    with pytest.raises(ValueError, match='divergence'):
        MapDivergenceLoss('l2')


def test_moment_iou():
    a = torch.tensor([[[0.0, 0.5], [0.2, 0.4]]])
    b = torch.tensor([[[0.25, 0.5]]])
    assert torch.allclose(moment_iou(a, b)[0, :, 0], torch.tensor([0.5, 0.15 / 0.3]))


def test_boundary_distillation_moves_the_matched_proposal_towards_the_teacher():
    centres = torch.tensor([[0.2, 0.7]], requires_grad=True)
    widths = torch.tensor([[0.2, 0.2]], requires_grad=True)
    log_scores = torch.log(torch.tensor([[0.5, 0.5]])).requires_grad_(True)
    teacher = torch.tensor([[[0.6, 0.9], [0.0, 0.1]]])  # best: centre 0.75, width 0.3
    scores = torch.tensor([[0.9, 0.1]])
    loss = BoundaryDistillLoss(topk=1)(centres, widths, log_scores, teacher, scores)
    loss.backward()
    # proposal 1 overlaps the teacher's best and is pulled towards it; proposal 0 is not
    assert centres.grad[0, 1] < 0 and widths.grad[0, 1] < 0
    assert centres.grad[0, 0] == 0 and widths.grad[0, 0] == 0
    # the ranking raises the matched proposal's score
    assert log_scores.grad[0, 1] < log_scores.grad[0, 0]


def test_boundary_distillation_is_zero_on_the_teachers_own_proposal_but_for_the_ranking():
    teacher = torch.tensor([[[0.4, 0.6]]])
    loss = BoundaryDistillLoss(rank_weight=0.0)(torch.tensor([[0.5]]), torch.tensor([[0.2]]),
                                                None, teacher, torch.tensor([[1.0]]))
    assert loss.abs() < 1e-6
    with pytest.raises(ValueError, match='topk'):
        BoundaryDistillLoss(topk=0)
