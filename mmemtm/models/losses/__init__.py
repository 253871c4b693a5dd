from .boundary_losses import SoftBoundaryLoss, masked_soft_cross_entropy
from .distillation_losses import (KD_MODES, HiddenAlignmentLoss, LabelKDLoss,
                                  hidden_alignment_loss, label_kd_loss, reference_label_kd,
                                  standard_label_kd)
from .matching_losses import label_orthogonality_loss, masked_tag_cross_entropy
from .proposal_losses import AnchorRegressionLoss, ScaledIoULoss, scaled_iou_targets
from .recognition_kd_losses import (CVAELoss, FeatureDistributionLoss, FeatureMSELoss,
                                    LogitKDLoss, RampedMSELoss, SubstageCorrelationLoss,
                                    batch_similarity, energy_map, gaussian_kl, linear_ramp)
from .weak_distillation_losses import (BoundaryDistillLoss, MapDivergenceLoss, masked_kl,
                                       moment_iou)

__all__ = [
    'SoftBoundaryLoss', 'HiddenAlignmentLoss', 'LabelKDLoss', 'masked_soft_cross_entropy',
    'KD_MODES', 'hidden_alignment_loss', 'label_kd_loss', 'reference_label_kd',
    'standard_label_kd', 'label_orthogonality_loss', 'masked_tag_cross_entropy', 'CVAELoss',
    'FeatureDistributionLoss', 'FeatureMSELoss', 'LogitKDLoss', 'RampedMSELoss',
    'SubstageCorrelationLoss', 'batch_similarity', 'energy_map', 'gaussian_kl', 'linear_ramp',
    'AnchorRegressionLoss', 'ScaledIoULoss', 'scaled_iou_targets', 'BoundaryDistillLoss',
    'MapDivergenceLoss', 'masked_kl', 'moment_iou'
]
