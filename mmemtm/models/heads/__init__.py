from .teacher_heads import (HEAD_OF_KIND, NORMALIZE_MODES, BaseTeacherCurveHead,
                            Map2DTeacherCurveHead, ProposalTeacherCurveHead,
                            SpanTeacherCurveHead, build_teacher_curve_head, gaussian_bumps,
                            normalize_curves, resample_curves)

__all__ = [
    'HEAD_OF_KIND', 'NORMALIZE_MODES', 'BaseTeacherCurveHead', 'Map2DTeacherCurveHead',
    'ProposalTeacherCurveHead', 'SpanTeacherCurveHead', 'build_teacher_curve_head',
    'gaussian_bumps', 'normalize_curves', 'resample_curves'
]
