from .emtm import CURVE_LOGITS, EMTM, curves_to_logits
from .knowledge_aggregation_unit import (AverageTeacherAggregator, FrozenBatchNorm,
                                         KnowledgeAggregationUnit, aggregate_curves)

__all__ = [
    'CURVE_LOGITS', 'EMTM', 'curves_to_logits', 'AverageTeacherAggregator', 'FrozenBatchNorm',
    'KnowledgeAggregationUnit', 'aggregate_curves'
]
