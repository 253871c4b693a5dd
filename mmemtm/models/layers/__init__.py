from .cq_attention import CQAttention
from .cq_concat import CQConcat
from .dual_attention import DualAttentionBlock
from .feature_encoder import FeatureEncoder
from .position_embedding import PositionEmbedding
from .self_attention import MaskedSelfAttention

__all__ = [
    'CQAttention', 'CQConcat', 'DualAttentionBlock', 'FeatureEncoder', 'MaskedSelfAttention',
    'PositionEmbedding'
]
