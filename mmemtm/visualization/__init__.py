from .grounding_figures import (distillation_figure, draw_boundaries, draw_moments, save_figure,
                                video_grounding_figure)

__all__ = [
    'distillation_figure', 'draw_boundaries', 'draw_moments', 'save_figure',
    'video_grounding_figure'
]
