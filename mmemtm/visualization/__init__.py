from .benchmark_figures import accuracy_bars, validation_curves
from .grounding_figures import (distillation_figure, draw_boundaries, draw_moments, save_figure,
                                video_grounding_figure)
from .timeline_figures import (boundary_distributions_figure, figure_to_array,
                               moment_frames_figure, moments_timeline_figure)
from .visualization_hook import GroundingVisualizationHook, query_figure, query_figure_name

__all__ = [
    'accuracy_bars', 'distillation_figure', 'draw_boundaries', 'draw_moments', 'save_figure',
    'video_grounding_figure', 'validation_curves', 'GroundingVisualizationHook', 'query_figure',
    'query_figure_name', 'boundary_distributions_figure', 'figure_to_array',
    'moment_frames_figure', 'moments_timeline_figure'
]
