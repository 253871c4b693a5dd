import pytest
import torch

from mmemtm.models.encoders import VideoProjection


def test_projection_shape_norm_and_mask():
    torch.manual_seed(0)
    proj = VideoProjection(video_dim=12, dim=8, drop_rate=0.3)
    proj.init_weights()
    proj.eval()
    video, mask = torch.randn(2, 5, 12), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    out = proj(video, mask)
    assert out.shape == (2, 5, 8)
    assert torch.all(out[0, 3:] == 0)
    torch.testing.assert_close(out[1].mean(-1), torch.zeros(5), atol=1e-5, rtol=0)
    assert torch.all(proj.proj.bias == 0)


def test_wrong_feature_dimension():
    with pytest.raises(ValueError, match='12 dimensions, the model expects video_dim=10'):
        VideoProjection(video_dim=10, dim=8)(torch.zeros(1, 2, 12), torch.ones(1, 2))
