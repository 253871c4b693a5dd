from .cq_attention import CQAttention
from .conv_block import ConvBlock
from .cq_concat import CQConcat
from .dual_attention import DualAttentionBlock
from .feature_encoder import FeatureEncoder
from .map2d_layers import (TemporalMapConvStack, sparse_span_mask, span_feature_map,
                           valid_span_mask)
from .position_embedding import PositionEmbedding
from .scdm_layers import SemanticConditionedModulation
from .self_attention import MaskedSelfAttention

__all__ = [
    'ConvBlock', 'CQAttention', 'CQConcat', 'DualAttentionBlock', 'FeatureEncoder',
    'MaskedSelfAttention', 'PositionEmbedding', 'TemporalMapConvStack', 'sparse_span_mask',
    'span_feature_map', 'valid_span_mask', 'SemanticConditionedModulation'
]
