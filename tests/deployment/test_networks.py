"""The export-friendly pieces of the deployment networks match the model code they replace."""
import pytest
import torch

from mmemtm.deployment import span_feature_map_gather
from mmemtm.models.layers.map2d_layers import span_feature_map


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_span_feature_map_gather_matches_span_feature_map(mode):
    torch.manual_seed(0)
    feats = torch.randn(2, 5, 11)
    torch.testing.assert_close(span_feature_map_gather(feats, mode), span_feature_map(feats, mode))
    with pytest.raises(ValueError, match='mode must be'):
        span_feature_map_gather(feats, 'sum')
