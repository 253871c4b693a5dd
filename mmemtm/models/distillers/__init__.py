from .emtm import CURVE_LOGITS, EMTM, curves_to_logits
from .knowledge_aggregation_unit import (AverageTeacherAggregator, FixedTeacherWeights,
                                         FrozenBatchNorm, KnowledgeAggregationUnit,
                                         aggregate_curves, fit_mixture_weights)
from .local_global import LocalGlobalDistiller
from .recognition import (CascadeSchedule, GenerativeFeatureDistiller, LogitDistiller,
                          PseudoLabelBank, RecognizerDistiller, StagedDistiller)

__all__ = [
    'CURVE_LOGITS', 'EMTM', 'curves_to_logits', 'AverageTeacherAggregator', 'FixedTeacherWeights',
    'FrozenBatchNorm', 'KnowledgeAggregationUnit', 'aggregate_curves', 'fit_mixture_weights',
    'CascadeSchedule', 'GenerativeFeatureDistiller', 'LogitDistiller', 'PseudoLabelBank', 'RecognizerDistiller',
    'StagedDistiller', 'LocalGlobalDistiller'
]
