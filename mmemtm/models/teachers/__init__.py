from .anchors import anchor_moments, decode_offsets, encode_offsets, multiscale_anchors
from .clip_grid import (fractions_to_clip_spans, grid_candidate_moments, grid_spans_to_clip_spans,
                        pool_clips_to_grid)
from .mutual_learning import CrossModalMutualTeacher
from .scdm import SCDMGrounder
from .seqpan import SeqPANGrounder
from .tan2d import TAN2DGrounder

__all__ = [
    'anchor_moments', 'decode_offsets', 'encode_offsets', 'multiscale_anchors',
    'fractions_to_clip_spans', 'grid_candidate_moments', 'grid_spans_to_clip_spans',
    'pool_clips_to_grid', 'CrossModalMutualTeacher', 'SCDMGrounder', 'SeqPANGrounder',
    'TAN2DGrounder'
]
