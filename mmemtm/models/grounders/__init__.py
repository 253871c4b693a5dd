from .base_grounder import BaseGrounder
from .span_prior_grounder import SpanPriorGrounder

__all__ = ['BaseGrounder', 'SpanPriorGrounder']
