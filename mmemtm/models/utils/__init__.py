from .decoding import (NEG_INF, mask_span_map, masked_log_softmax, span_score_map,
                       temporal_nms_order, topk_spans)

__all__ = [
    'NEG_INF', 'mask_span_map', 'masked_log_softmax', 'span_score_map', 'temporal_nms_order',
    'topk_spans'
]
