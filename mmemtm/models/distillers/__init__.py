from .emtm import CURVE_LOGITS, EMTM, curves_to_logits
from .knowledge_aggregation_unit import (AverageTeacherAggregator, FrozenBatchNorm,
                                         KnowledgeAggregationUnit, aggregate_curves)
from .local_global import LocalGlobalDistiller
from .recognition import (CascadeSchedule, GenerativeFeatureDistiller, LogitDistiller,
                          PseudoLabelBank, RecognizerDistiller, StagedDistiller)

__all__ = [
    'CURVE_LOGITS', 'EMTM', 'curves_to_logits', 'AverageTeacherAggregator', 'FrozenBatchNorm',
    'KnowledgeAggregationUnit', 'aggregate_curves', 'CascadeSchedule',
    'GenerativeFeatureDistiller', 'LogitDistiller', 'PseudoLabelBank', 'RecognizerDistiller',
    'StagedDistiller', 'LocalGlobalDistiller'
]
