from .output_to_curves import (CONVERTER_OF_KIND, NORMALIZE_MODES, RENAMED_CONVERTERS,
                             BaseCurveConverter, Map2DCurveConverter, ProposalCurveConverter,
                             SpanCurveConverter, build_curve_converter, gaussian_bumps,
                             normalize_curves, resample_curves)

__all__ = [
    'CONVERTER_OF_KIND', 'NORMALIZE_MODES', 'RENAMED_CONVERTERS', 'BaseCurveConverter',
    'Map2DCurveConverter', 'ProposalCurveConverter', 'SpanCurveConverter',
    'build_curve_converter', 'gaussian_bumps', 'normalize_curves', 'resample_curves'
]
