from .boundary_losses import masked_soft_cross_entropy

__all__ = ['masked_soft_cross_entropy']
