import torch
import torch.nn.functional as F

from mmemtm.models.layers import FeatureEncoder


def test_feature_encoder_shapes_and_padding():
    torch.manual_seed(0)
    enc = FeatureEncoder(dim=8, max_len=12, num_heads=2, drop_rate=0.2)
    enc.init_weights()
    enc.eval()
    x, mask = torch.randn(2, 5, 8), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    out = enc(x, mask)
    assert out.shape == (2, 5, 8) and torch.all(out[0, 3:] == 0)
    padded = enc(torch.cat([x, 20 * torch.randn(2, 4, 8)], 1), F.pad(mask, (0, 4)))
    torch.testing.assert_close(padded[:, :5], out)
    assert enc.position.weight.shape == (12, 8)
    assert torch.all(enc.ffn.bias == 0) and torch.all(enc.attention.key.bias == 0)
