import pytest
import torch

from mmemtm.models.encoders import DualAttentionEncoder


def test_each_layer_updates_both_streams_with_one_block():
    torch.manual_seed(0)
    enc = DualAttentionEncoder(dim=8, num_layers=2, num_heads=2)
    enc.init_weights()
    enc.eval()
    assert all(torch.all(b.query.bias == 0) for b in enc.blocks)
    video, query = torch.randn(2, 6, 8), torch.randn(2, 3, 8)
    v_mask, q_mask = torch.ones(2, 6), torch.tensor([[1, 1, 1], [1, 1, 0.]])
    v_out, q_out = enc(video, query, v_mask, q_mask)
    first = enc.blocks[0]
    v1, q1 = first(video, query, v_mask, q_mask), first(query, video, q_mask, v_mask)
    v2, q2 = enc.blocks[1](v1, q1, v_mask, q_mask), enc.blocks[1](q1, v1, q_mask, v_mask)
    # The stack ends with a LayerNorm of each stream (zero at padding).
    torch.testing.assert_close(v_out, enc.video_norm(v2) * v_mask[..., None])
    torch.testing.assert_close(q_out, enc.query_norm(q2) * q_mask[..., None])
    assert v_out.shape == (2, 6, 8) and q_out.shape == (2, 3, 8)
    reference = DualAttentionEncoder(dim=8, num_layers=2, num_heads=2, final_norm=False)
    reference.load_state_dict(enc.state_dict(), strict=False)
    torch.testing.assert_close(reference.eval()(video, query, v_mask, q_mask)[0], v2)


def test_outputs_keep_unit_scale_in_training_with_heavy_dropout():
    # Without the final LayerNorm, the residual stream of two blocks at dropout 0.4 is ~3x the
    # input's norm, and the CQ attention after it squares that in the logits.
    torch.manual_seed(0)
    video, query = torch.randn(4, 32, 64), torch.randn(4, 6, 64)
    masks = torch.ones(4, 32), torch.ones(4, 6)
    norms = {}
    for final_norm in (True, False):
        torch.manual_seed(0)
        enc = DualAttentionEncoder(dim=64, num_layers=2, num_heads=4, drop_rate=0.4,
                                   final_norm=final_norm)
        enc.init_weights()
        out, _ = enc.train()(video, query, *masks)
        norms[final_norm] = float(out.norm(dim=-1).mean() / video.norm(dim=-1).mean())
    assert norms[True] == pytest.approx(1.0, abs=0.05)
    assert norms[False] > 1.5


def test_zero_layers_is_identity():
    enc = DualAttentionEncoder(dim=8, num_layers=0)
    video, query = torch.randn(1, 4, 8), torch.randn(1, 2, 8)
    v_out, q_out = enc(video, query, torch.ones(1, 4), torch.ones(1, 2))
    assert v_out is video and q_out is query
