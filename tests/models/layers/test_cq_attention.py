import torch
import torch.nn.functional as F

from mmemtm.models.layers import CQAttention


def _attention(**kwargs) -> CQAttention:
    torch.manual_seed(0)
    attn = CQAttention(dim=6, **kwargs)
    attn.init_weights()
    return attn.eval()


def _reference(attn, context, query):
    """Loop implementation of the trilinear attention for one unpadded pair."""
    w_c, w_q = attn.context_weight.weight[0], attn.query_weight.weight[0]
    w_m = attn.mixed_weight[0]
    score = torch.stack([torch.stack([c @ w_c + q @ w_q + (c * w_m) @ q for q in query])
                         for c in context])
    row, col = score.softmax(1), score.softmax(0)
    a = row @ query
    b = row @ col.t() @ context
    return attn.proj(torch.cat([context, a, context * a, context * b], -1))


def test_matches_the_formula():
    attn = _attention()
    context, query = torch.randn(5, 6), torch.randn(3, 6)
    out = attn(context[None], query[None], torch.ones(1, 5), torch.ones(1, 3))
    torch.testing.assert_close(out[0], _reference(attn, context, query))
    assert attn.proj.bias is None and attn.proj.in_features == 24


def test_padding_of_either_sequence_is_ignored():
    attn = _attention(drop_rate=0.4)
    context, query = torch.randn(2, 5, 6), torch.randn(2, 3, 6)
    c_mask, q_mask = torch.tensor([[1, 1, 1, 1, 0], [1] * 5]).float(), torch.ones(2, 3)
    out = attn(context, query, c_mask, q_mask)
    assert out.shape == (2, 5, 6) and torch.all(out[0, 4] == 0)
    context_pad = torch.cat([context, 50 * torch.randn(2, 2, 6)], 1)
    context_pad[0, 4] = -30.0
    query_pad = torch.cat([query, 50 * torch.randn(2, 4, 6)], 1)
    padded = attn(context_pad, query_pad, F.pad(c_mask, (0, 2)), F.pad(q_mask, (0, 4)))
    torch.testing.assert_close(padded[:, :5], out)
    unpadded = _reference(attn, context[0, :4], query[0])
    torch.testing.assert_close(out[0, :4], unpadded)


def test_dropout_only_affects_scores_in_training():
    attn = _attention(drop_rate=0.5).train()
    context, query = torch.randn(1, 4, 6), torch.randn(1, 2, 6)
    outs = [attn(context, query, torch.ones(1, 4), torch.ones(1, 2)) for _ in range(2)]
    assert not torch.allclose(outs[0], outs[1])
