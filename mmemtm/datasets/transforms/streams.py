"""Loading of several aligned feature streams of a video (e.g. appearance and motion)."""
from typing import List, Optional, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from ..feature_store import FeatureError, get_feature_store


@TRANSFORMS.register_module()
class LoadFeatureStreams(BaseTransform):
    """Load the clip features of several aligned streams of a video and concatenate them along
    the feature axis, in the order given.

    Every stream is a folder of ``<video_id>.npy`` files (or an HDF5 file) of ``[n_clips, dim]``
    features on the same clips: bin ``t`` of every stream covers the same frames. A model states
    the streams it receives (``input_streams``); the names loaded are recorded, so a batch of the
    wrong streams is refused by the model (``StreamMismatchError``) instead of being read.

    Required keys: ``video_id``. Added keys: ``video_feats`` (``[n_clips, sum of dims]``
    float32), ``num_clips``, ``streams`` (the names, a tuple; pack it with
    ``PackGroundingInputs(meta_keys=(..., 'streams'))``).

    Args:
        streams: One ``dict(name=..., path=...)`` per stream, in the order of concatenation; a
            name may repeat (the same stream given twice, e.g. to two branches of a model).
        feature_dim: Expected size of every stream's features; a mismatch is an error naming
            the file.

    A missing file, a stream of another clip count than the first, or a bad entry is an error
    naming the stream, the file and the video.
    """

    def __init__(self, streams: Sequence[dict], feature_dim: Optional[int] = None) -> None:
        if isinstance(streams, dict) or not streams:
            raise ValueError(f'streams must be a non-empty list of dict(name=..., path=...), '
                             f'got {streams!r}')
        for spec in streams:
            if not isinstance(spec, dict) or set(spec) != {'name', 'path'}:
                raise ValueError(f'each stream needs exactly "name" and "path", got {spec!r}')
        self.streams: List[dict] = [dict(s) for s in streams]
        self.feature_dim = feature_dim

    def transform(self, results: dict) -> dict:
        video_id = results['video_id']
        parts = []
        for spec in self.streams:
            store = get_feature_store(spec['path'])
            try:
                feats = store.load_checked(video_id, self.feature_dim)
            except FeatureError as exc:
                raise FeatureError(f'stream {spec["name"]!r}: {exc}') from None
            if parts and feats.shape[0] != parts[0].shape[0]:
                first = self.streams[0]
                raise FeatureError(
                    f'video {video_id}: stream {spec["name"]!r} ({store.location(video_id)}) has '
                    f'{feats.shape[0]} clips, stream {first["name"]!r} '
                    f'({get_feature_store(first["path"]).location(video_id)}) has '
                    f'{parts[0].shape[0]}: the streams are not aligned')
            parts.append(feats)
        results['video_feats'] = np.concatenate(parts, axis=1)
        results['num_clips'] = int(parts[0].shape[0])
        results['streams'] = tuple(s['name'] for s in self.streams)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(streams={[s["name"] for s in self.streams]}, '
                f'feature_dim={self.feature_dim})')
