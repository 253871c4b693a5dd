from .formatting import PackGroundingInputs
from .loading import LoadClipFeatures
from .sampling import DownsampleClips, downsample_clips
from .targets import BuildGroundingTargets, match_labels, soft_boundary_label, span_targets
from .teacher_curves import LoadTeacherCurves
from .text import TokenizeQuery

__all__ = [
    'PackGroundingInputs', 'LoadClipFeatures', 'DownsampleClips', 'downsample_clips',
    'BuildGroundingTargets', 'match_labels', 'soft_boundary_label', 'span_targets',
    'TokenizeQuery', 'LoadTeacherCurves'
]
