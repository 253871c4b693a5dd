from .conditioned_span_predictor import ConditionedSpanPredictor
from .matching_head import NUM_MATCH_TAGS, MatchingHead
from .span_grounding_head import SpanGroundingHead

__all__ = ['ConditionedSpanPredictor', 'MatchingHead', 'NUM_MATCH_TAGS', 'SpanGroundingHead']
