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
    # Rows orthonormal up to rounding: the Gram matrix's off-diagonal squares sum to ~1e-31 in
    # float64 (up to ~3e-13 in float32, by the CPU's QR kernel), below eps = 1e-12, so the loss
    # is its floor sqrt(eps) = 1e-6 (0 if rounding left nothing). A bound of `< 1e-6` would hold
    # only where eps happens to round down (float32(1e-12) does, float64's does not).
    q, _ = torch.linalg.qr(torch.randn(6, 4, dtype=torch.float64))
    emb = q.t().contiguous().requires_grad_()
    assert label_orthogonality_loss(emb).item() <= 1.5e-6
    exact = torch.eye(4, 6, requires_grad=True)
    loss = label_orthogonality_loss(exact)
    assert loss.item() == 0
    loss.backward()
    assert torch.all(exact.grad == 0)
    twins = torch.tensor([[1., 0], [1, 0]])
    torch.testing.assert_close(label_orthogonality_loss(twins), torch.tensor(math.sqrt(2)))
    scaled = torch.tensor([[2., 0, 0], [0, 3, 0], [0, 0, 1]])
    assert label_orthogonality_loss(scaled).item() == 0
