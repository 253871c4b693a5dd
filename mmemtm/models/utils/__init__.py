from .attention import merge_heads, multi_head_attention, split_heads
from .decoding import (NEG_INF, decode_spans, mask_span_map, masked_log_softmax,
                       moment_nms_order, pairwise_moment_iou, span_log_score_map, span_score_map,
                       topk_moments, topk_spans, valid_span_mask)
from .init import glorot_init_cfg, glorot_parameter
from .masking import apply_mask, masked_softmax, valid_lengths
from .parts import build_part, refuse_moved_arguments, with_max_vlen

__all__ = [
    'apply_mask', 'build_part', 'decode_spans', 'glorot_init_cfg', 'glorot_parameter',
    'mask_span_map', 'masked_log_softmax', 'masked_softmax', 'merge_heads', 'moment_nms_order',
    'multi_head_attention', 'NEG_INF', 'pairwise_moment_iou', 'refuse_moved_arguments',
    'span_log_score_map', 'span_score_map', 'split_heads', 'topk_moments', 'topk_spans',
    'valid_lengths', 'valid_span_mask', 'with_max_vlen'
]
