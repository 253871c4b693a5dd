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
    torch.testing.assert_close(v_out, v2)
    torch.testing.assert_close(q_out, q2)
    assert v_out.shape == (2, 6, 8) and q_out.shape == (2, 3, 8)


def test_zero_layers_is_identity():
    enc = DualAttentionEncoder(dim=8, num_layers=0)
    video, query = torch.randn(1, 4, 8), torch.randn(1, 2, 8)
    v_out, q_out = enc(video, query, torch.ones(1, 4), torch.ones(1, 2))
    assert v_out is video and q_out is query
