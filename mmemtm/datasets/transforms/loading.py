"""Loading of pre-extracted clip features."""
from typing import Optional

from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from ..feature_store import get_feature_store


@TRANSFORMS.register_module()
class LoadClipFeatures(BaseTransform):
    """Load a video's clip features.

    Required keys: ``video_id``, ``feature_path`` (folder of ``.npy`` files or HDF5 file).
    Added keys: ``video_feats`` (``[n_clips, dim]`` float32), ``num_clips``.

    Args:
        feature_dim: Expected feature dimension; a mismatch is an error naming the file.
    """

    def __init__(self, feature_dim: Optional[int] = None) -> None:
        self.feature_dim = feature_dim

    def transform(self, results: dict) -> dict:
        store = get_feature_store(results['feature_path'])
        feats = store.load_checked(results['video_id'], self.feature_dim)
        results['video_feats'] = feats
        results['num_clips'] = int(feats.shape[0])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(feature_dim={self.feature_dim})'
