from .boundary_losses import masked_soft_cross_entropy
from .distillation_losses import (KD_MODES, hidden_alignment_loss, label_kd_loss,
                                  reference_label_kd, standard_label_kd)

__all__ = [
    'masked_soft_cross_entropy', 'KD_MODES', 'hidden_alignment_loss', 'label_kd_loss',
    'reference_label_kd', 'standard_label_kd'
]
