from .boundary_losses import masked_soft_cross_entropy
from .matching_losses import label_orthogonality_loss, masked_tag_cross_entropy

__all__ = ['label_orthogonality_loss', 'masked_soft_cross_entropy', 'masked_tag_cross_entropy']
