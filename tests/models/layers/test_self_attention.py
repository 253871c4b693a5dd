import torch
import torch.nn.functional as F

from mmemtm.models.layers import MaskedSelfAttention


def test_matches_scaled_dot_product_attention_without_output_projection():
    torch.manual_seed(0)
    attn = MaskedSelfAttention(dim=8, num_heads=2)
    attn.init_weights()
    attn.eval()
    x, mask = torch.randn(2, 5, 8), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    out = attn(x, mask)

    def heads(t):
        return t.view(2, 5, 2, 4).transpose(1, 2)

    expected = F.scaled_dot_product_attention(
        heads(attn.query(x)), heads(attn.key(x)), heads(attn.value(x)),
        attn_mask=mask.bool()[:, None, None, :]).transpose(1, 2).reshape(2, 5, 8)
    torch.testing.assert_close(out[1], expected[1])
    torch.testing.assert_close(out[0, :3], expected[0, :3])
    assert torch.all(out[0, 3:] == 0)
    assert not any('out' in name for name, _ in attn.named_parameters())


def test_padded_keys_are_ignored():
    torch.manual_seed(0)
    attn = MaskedSelfAttention(dim=8, num_heads=4).eval()
    x = torch.randn(1, 3, 8)
    padded = torch.cat([x, 40 * torch.randn(1, 4, 8)], 1)
    torch.testing.assert_close(attn(padded, F.pad(torch.ones(1, 3), (0, 4)))[:, :3],
                               attn(x, torch.ones(1, 3)))
