from .grounding_metric import GroundingMetric

__all__ = ['GroundingMetric']
