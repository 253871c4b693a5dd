import torch

from mmemtm.models.heads import MatchingHead


def _head() -> MatchingHead:
    torch.manual_seed(0)
    head = MatchingHead(dim=8)
    head.init_weights()
    return head


def test_init_orthonormal_labels_and_zero_bias():
    head = _head()
    torch.testing.assert_close(head.label_embedding @ head.label_embedding.t(), torch.eye(4))
    assert torch.all(head.classifier.bias == 0)


def test_conditioned_features_and_logits():
    head = _head()
    feats, mask = torch.randn(2, 5, 8), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    out, logits = head(feats, mask)
    assert out.shape == (2, 5, 8) and logits.shape == (2, 5, 4)
    expected = (feats + logits.softmax(-1) @ head.label_embedding) * mask[..., None]
    torch.testing.assert_close(out, expected)
    assert torch.all(out[0, 3:] == 0)


def test_loss_terms():
    head = _head()
    logits = torch.randn(2, 5, 4, requires_grad=True)
    labels = torch.tensor([[0, 1, 2, 3, 3], [1, 2, 2, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    losses = head.loss(logits, labels, mask)
    assert set(losses) == {'loss_match', 'loss_ortho'}
    assert losses['loss_ortho'].item() < 1e-5
    sum(losses.values()).backward()
    assert torch.all(logits.grad[0, 3:] == 0) and logits.grad[1].abs().sum() > 0
