from .benchmark_figures import accuracy_bars, validation_curves
from .grounding_figures import (distillation_figure, draw_boundaries, draw_moments, save_figure,
                                video_grounding_figure)
from .visualization_hook import GroundingVisualizationHook, query_figure, query_figure_name

__all__ = [
    'accuracy_bars', 'distillation_figure', 'draw_boundaries', 'draw_moments', 'save_figure',
    'video_grounding_figure', 'validation_curves', 'GroundingVisualizationHook', 'query_figure',
    'query_figure_name'
]
