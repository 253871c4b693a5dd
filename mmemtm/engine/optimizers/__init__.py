from .parts_optim_constructor import PartsOptimWrapperConstructor

__all__ = ['PartsOptimWrapperConstructor']
