from .map2d_layers import (TemporalMapConvStack, sparse_span_mask, span_feature_map,
                           valid_span_mask)
from .scdm_layers import SemanticConditionedModulation

__all__ = [
    'TemporalMapConvStack', 'sparse_span_mask', 'span_feature_map', 'valid_span_mask',
    'SemanticConditionedModulation'
]
