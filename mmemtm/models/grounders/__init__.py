from .base_grounder import BaseGrounder, spans_to_moments
from .span_prior_grounder import SpanPriorGrounder

__all__ = ['BaseGrounder', 'SpanPriorGrounder', 'spans_to_moments']
