import torch
import torch.nn.functional as F

from mmemtm.models.layers import CQConcat


def test_pooling_is_a_masked_attention_average():
    torch.manual_seed(0)
    concat = CQConcat(dim=4)
    concat.init_weights()
    query = torch.tensor([[[1., 2, 3, 4], [1, 2, 3, 4], [9, 9, 9, 9]]])
    pooled = concat.pool(query, torch.tensor([[1., 1, 0]]))
    torch.testing.assert_close(pooled, torch.tensor([[1., 2, 3, 4]]))
    scores = concat.pool_weight(query[:, :2]).squeeze(-1)
    torch.testing.assert_close(concat.pool(query[:, :2], torch.ones(1, 2)),
                               (scores.softmax(-1)[..., None] * query[:, :2]).sum(1))


def test_output_shape_mask_and_padding_invariance():
    torch.manual_seed(0)
    concat = CQConcat(dim=4)
    concat.init_weights()
    context, query = torch.randn(2, 5, 4), torch.randn(2, 3, 4)
    c_mask, q_mask = torch.tensor([[1, 1, 0, 0, 0], [1] * 5]).float(), torch.tensor(
        [[1, 0, 0], [1, 1, 1.]])
    out = concat(context, query, c_mask, q_mask)
    assert out.shape == (2, 5, 4) and torch.all(out[0, 2:] == 0)
    expected = concat.proj(torch.cat([context[1], concat.pool(query, q_mask)[1].expand(5, 4)],
                                     -1))
    torch.testing.assert_close(out[1], expected)
    padded = concat(F.pad(context, (0, 0, 0, 2), value=3.0), F.pad(query, (0, 0, 0, 2), value=-8.),
                    F.pad(c_mask, (0, 2)), F.pad(q_mask, (0, 2)))
    torch.testing.assert_close(padded[:, :5], out)
