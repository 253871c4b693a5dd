import math

import torch
import torch.nn.functional as F

from mmemtm.models.losses import label_orthogonality_loss, masked_tag_cross_entropy


def test_tag_cross_entropy_averages_valid_positions_of_the_batch():
    logits, labels = torch.randn(2, 4, 4), torch.tensor([[0, 1, 2, 3], [3, 3, 1, 0]])
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1.]])
    valid = mask.bool()
    expected = F.cross_entropy(logits[valid], labels[valid])
    torch.testing.assert_close(masked_tag_cross_entropy(logits, labels, mask), expected)
    changed = labels.clone()
    changed[0, 2:] = 1
    torch.testing.assert_close(masked_tag_cross_entropy(logits, changed, mask), expected)


def test_orthogonality_loss():
    q, _ = torch.linalg.qr(torch.randn(6, 4))
    emb = q.t().contiguous().requires_grad_()
    assert label_orthogonality_loss(emb).item() < 1e-6
    exact = torch.eye(4, 6, requires_grad=True)
    loss = label_orthogonality_loss(exact)
    assert loss.item() == 0
    loss.backward()
    assert torch.all(exact.grad == 0)
    twins = torch.tensor([[1., 0], [1, 0]])
    torch.testing.assert_close(label_orthogonality_loss(twins), torch.tensor(math.sqrt(2)))
    scaled = torch.tensor([[2., 0, 0], [0, 3, 0], [0, 0, 1]])
    assert label_orthogonality_loss(scaled).item() == 0
