from .knowledge_aggregation_unit import (AverageTeacherAggregator, FrozenBatchNorm,
                                         KnowledgeAggregationUnit, aggregate_curves)

__all__ = [
    'AverageTeacherAggregator', 'FrozenBatchNorm', 'KnowledgeAggregationUnit', 'aggregate_curves'
]
