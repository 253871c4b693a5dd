from .conditioned_span_predictor import ConditionedSpanPredictor
from .feature_cvae import FeatureCVAE
from .gkd_attention_head import ChannelTimeAttention, GKDAttentionHead, foreground
from .i3d_logits_head import I3DLogitsHead
from .matching_head import NUM_MATCH_TAGS, MatchingHead
from .span_grounding_head import SpanGroundingHead

__all__ = [
    'ConditionedSpanPredictor', 'MatchingHead', 'NUM_MATCH_TAGS', 'SpanGroundingHead',
    'FeatureCVAE', 'ChannelTimeAttention', 'GKDAttentionHead', 'foreground', 'I3DLogitsHead'
]
