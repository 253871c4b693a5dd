from .conditioned_span_predictor import ConditionedSpanPredictor
from .matching_head import NUM_MATCH_TAGS, MatchingHead
from .span_grounding_head import SpanGroundingHead
from .teacher_heads import (HEAD_OF_KIND, NORMALIZE_MODES, BaseTeacherCurveHead,
                            Map2DTeacherCurveHead, ProposalTeacherCurveHead,
                            SpanTeacherCurveHead, build_teacher_curve_head, gaussian_bumps,
                            normalize_curves, resample_curves)

__all__ = [
    'ConditionedSpanPredictor', 'MatchingHead', 'NUM_MATCH_TAGS', 'SpanGroundingHead',
    'HEAD_OF_KIND', 'NORMALIZE_MODES', 'BaseTeacherCurveHead', 'Map2DTeacherCurveHead',
    'ProposalTeacherCurveHead', 'SpanTeacherCurveHead', 'build_teacher_curve_head',
    'gaussian_bumps', 'normalize_curves', 'resample_curves'
]
