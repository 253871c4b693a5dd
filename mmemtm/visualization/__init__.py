from .benchmark_figures import accuracy_bars, validation_curves
from .grounding_figures import (distillation_figure, draw_boundaries, draw_moments, save_figure,
                                video_grounding_figure)

__all__ = [
    'accuracy_bars', 'distillation_figure', 'draw_boundaries', 'draw_moments', 'save_figure',
    'video_grounding_figure', 'validation_curves'
]
