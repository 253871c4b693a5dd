import torch

from mmemtm.models.heads import SpanGroundingHead
from mmemtm.models.losses import masked_soft_cross_entropy


def test_forward_outputs_and_losses():
    torch.manual_seed(0)
    head = SpanGroundingHead(dim=8, max_vlen=10, num_heads=2, drop_rate=0.1, match_weight=0.5)
    head.init_weights()
    video, query = torch.randn(2, 6, 8), torch.randn(2, 3, 8)
    v_mask, q_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6]).float(), torch.ones(2, 3)
    out = head(video, query, v_mask, q_mask)
    assert out['start_logits'].shape == out['end_logits'].shape == (2, 6)
    assert out['match_logits'].shape == (2, 6, 4)
    assert out['fused'].shape == out['conditioned'].shape == (2, 6, 8)

    start_label = torch.zeros(2, 6)
    start_label[:, 1] = 1
    targets = dict(start_label=start_label, end_label=start_label.roll(2, 1),
                   match_label=torch.tensor([[1, 1, 2, 3, 0, 0], [0, 1, 2, 2, 3, 0]]))
    losses = head.loss(out, targets, v_mask)
    assert set(losses) == {'loss_start', 'loss_end', 'loss_match', 'loss_ortho'}
    torch.testing.assert_close(
        losses['loss_start'], masked_soft_cross_entropy(out['start_logits'], start_label, v_mask))
    match = head.matching.loss(out['match_logits'], targets['match_label'], v_mask)
    torch.testing.assert_close(losses['loss_match'], 0.5 * match['loss_match'])
    torch.testing.assert_close(losses['loss_ortho'], 0.5 * match['loss_ortho'])
    sum(losses.values()).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing
