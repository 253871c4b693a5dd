import torch
import torch.nn.functional as F

from mmemtm.models.heads import ConditionedSpanPredictor


def _predictor() -> ConditionedSpanPredictor:
    torch.manual_seed(0)
    pred = ConditionedSpanPredictor(dim=8, max_len=12, num_heads=2, drop_rate=0.2)
    pred.init_weights()
    return pred.eval()


def test_logits_shapes_and_padding_invariance():
    pred = _predictor()
    feats, mask = torch.randn(2, 6, 8), torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6]).float()
    feats = feats * mask[..., None]
    start, end = pred(feats, mask)
    assert start.shape == end.shape == (2, 6)
    p_start, p_end = pred(F.pad(feats, (0, 0, 0, 3)), F.pad(mask, (0, 3)))
    torch.testing.assert_close(p_start[0, :4], start[0, :4])
    torch.testing.assert_close(p_end[:, :6][mask > 0], end[mask > 0])


def test_end_is_conditioned_on_start_features():
    pred = _predictor()
    calls = []
    pred.feature_encoder.register_forward_hook(lambda m, args, out: calls.append((args[0], out)))
    feats = torch.randn(1, 5, 8)
    pred(feats, torch.ones(1, 5))
    assert len(calls) == 2
    assert calls[1][0] is calls[0][1]
    head = pred.start_head
    assert head[0].in_features == 16 and head[2].out_features == 1
