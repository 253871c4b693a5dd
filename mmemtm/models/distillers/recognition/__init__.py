"""Knowledge distillation for MMAction2 recognizers: Hinton's logit KD, GKD and staged KD."""
from .base import FeatureTaps, RecognizerDistiller, current_epoch, frozen
from .generative_feature_distiller import GKD_PHASES, GenerativeFeatureDistiller
from .logit_distiller import LogitDistiller
from .staged_components import CascadeSchedule, PseudoLabelBank
from .staged_distiller import StagedDistiller, balance_weights, sample_indices

__all__ = [
    'FeatureTaps', 'RecognizerDistiller', 'current_epoch', 'frozen', 'GKD_PHASES',
    'GenerativeFeatureDistiller', 'LogitDistiller', 'CascadeSchedule', 'PseudoLabelBank',
    'StagedDistiller', 'balance_weights', 'sample_indices'
]
