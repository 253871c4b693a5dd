from .attention import merge_heads, multi_head_attention, split_heads
from .decoding import (NEG_INF, decode_spans, mask_span_map, masked_log_softmax,
                       span_score_map, temporal_nms_order, topk_spans)
from .init import glorot_init_cfg, glorot_parameter
from .masking import apply_mask, masked_softmax, valid_lengths

__all__ = [
    'NEG_INF', 'apply_mask', 'decode_spans', 'glorot_init_cfg', 'glorot_parameter',
    'mask_span_map', 'masked_log_softmax', 'masked_softmax', 'merge_heads',
    'multi_head_attention', 'span_score_map', 'split_heads', 'temporal_nms_order', 'topk_spans',
    'valid_lengths'
]
