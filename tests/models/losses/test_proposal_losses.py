import pytest
import torch
import torch.nn.functional as F

from mmemtm.models.losses import AnchorRegressionLoss, ScaledIoULoss, scaled_iou_targets


def test_scaled_iou_targets_by_hand():
    iou = torch.tensor([0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.0])
    target = scaled_iou_targets(iou, 0.3, 0.7)
    assert torch.allclose(target, torch.tensor([0.0, 0.0, 0.0, 0.25, 0.5, 1.0, 1.0, 1.0]))
    with pytest.raises(ValueError):
        scaled_iou_targets(iou, 0.7, 0.3)


def test_scaled_iou_loss_averages_over_the_candidates_only():
    logits = torch.tensor([[[0.5, -1.0], [9.0, 2.0]]])
    iou = torch.tensor([[[0.5, 0.9], [0.0, 0.2]]])
    mask = torch.tensor([[[True, True], [False, True]]])
    loss = ScaledIoULoss(iou_min=0.3, iou_max=0.7, loss_weight=2.0)(logits, iou, mask)
    target = torch.tensor([0.5, 1.0, 0.0])
    expected = F.binary_cross_entropy_with_logits(torch.tensor([0.5, -1.0, 2.0]), target)
    assert float(loss) == pytest.approx(2 * float(expected))
    with pytest.raises(ValueError, match='iou_min < iou_max'):
        ScaledIoULoss(iou_min=0.7, iou_max=0.3)


def test_anchor_regression_trains_the_positive_and_each_best_anchor():
    offsets = torch.zeros(2, 3, 2, requires_grad=True)
    target = torch.ones(2, 3, 2)
    iou = torch.tensor([[0.6, 0.2, 0.1], [0.1, 0.3, 0.2]])  # query 1: no anchor >= 0.5
    loss = AnchorRegressionLoss(pos_iou=0.5, loss_weight=3.0)(offsets, target, iou)
    loss.backward()
    trained = offsets.grad.abs().sum(-1) > 0
    assert trained.tolist() == [[True, False, False], [False, True, False]]
    assert float(loss.detach()) == pytest.approx(3 * 0.5)  # smooth L1 of a difference of 1
