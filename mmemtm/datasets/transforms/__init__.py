from .formatting import PackGroundingInputs
from .loading import LoadClipFeatures, LoadTeacherCurves
from .span_features import LoadSpanFeatures, pool_video, resample_span
from .sampling import DownsampleClips, downsample_clips
from .streams import LoadFeatureStreams
from .targets import BuildGroundingTargets, match_labels, soft_boundary_label, span_targets
from .text import TokenizeQuery

__all__ = [
    'PackGroundingInputs', 'LoadClipFeatures', 'DownsampleClips', 'downsample_clips',
    'BuildGroundingTargets', 'match_labels', 'soft_boundary_label', 'span_targets',
    'LoadFeatureStreams', 'TokenizeQuery', 'LoadTeacherCurves', 'LoadSpanFeatures', 'pool_video',
    'resample_span'
]
