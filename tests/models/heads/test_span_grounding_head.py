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


#: Parameters whose gradient is zero in exact arithmetic: each adds the same value to every
#: position of a softmax over positions (the boundary heads' output biases to every clip's logit,
#: the predictor's key bias ``q . b`` to every key of a query), and a softmax ignores a shift.
SHIFT_INVARIANT = {'predictor.start_head.2.bias', 'predictor.end_head.2.bias',
                   'predictor.feature_encoder.attention.key.bias'}


def _loss_and_gradients(head, video, query, v_mask, q_mask, targets):
    head.zero_grad()
    out = head(video, query, v_mask, q_mask)
    sum(head.loss(out, targets, v_mask).values()).backward()
    return {n: p.grad.abs().max().item() if p.grad is not None else 0.0
            for n, p in head.named_parameters()}


def test_every_parameter_but_the_shift_invariant_ones_learns():
    """In float64, so that what is zero in exact arithmetic is ~1e-16 on every CPU (in float32 it
    is rounding noise or exactly 0, depending on the CPU's kernels)."""
    torch.manual_seed(0)
    head = SpanGroundingHead(dim=8, max_vlen=10, num_heads=2, drop_rate=0.0,
                             match_weight=0.5).double()
    head.init_weights()
    head.double()
    video, query = torch.randn(2, 6, 8).double(), torch.randn(2, 3, 8).double()
    v_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6]).double()
    q_mask = torch.ones(2, 3).double()
    label = torch.zeros(2, 6).double()
    label[:, 1] = 1
    targets = dict(start_label=label, end_label=label.roll(2, 1),
                   match_label=torch.tensor([[1, 1, 2, 3, 0, 0], [0, 1, 2, 2, 3, 0]]))
    grads = _loss_and_gradients(head, video, query, v_mask, q_mask, targets)
    assert set(SHIFT_INVARIANT) <= set(grads)
    scale = max(grads.values())
    dead = {n for n, g in grads.items() if g <= 1e-9 * scale}
    assert dead == SHIFT_INVARIANT
    # why they are dead: shifting them changes no loss
    before = sum(head.loss(head(video, query, v_mask, q_mask), targets, v_mask).values())
    with torch.no_grad():
        for name, param in head.named_parameters():
            if name in SHIFT_INVARIANT:
                param.add_(0.7)
    after = sum(head.loss(head(video, query, v_mask, q_mask), targets, v_mask).values())
    torch.testing.assert_close(after, before, rtol=1e-10, atol=1e-10)
