from .parts_optim_constructor import PartsOptimWrapperConstructor
from .summary_optim_constructor import SummaryOptimWrapperConstructor

__all__ = ['PartsOptimWrapperConstructor', 'SummaryOptimWrapperConstructor']
