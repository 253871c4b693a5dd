"""Data sample of one (video, sentence) query."""
from mmengine.structures import BaseDataElement

#: Data fields of a :class:`GroundingDataSample` that hold training targets (set by the
#: pipeline, read by the data preprocessor and the models).
TARGET_KEYS = ('gt_span', 'start_label', 'end_label', 'match_label')


class GroundingDataSample(BaseDataElement):
    """One grounding query and, after prediction, its predicted moments.

    Meta fields (set by the pipeline): ``query_id`` (``'<video_id>#<ann_index>'``), ``video_id``,
    ``sentence``, ``duration`` (seconds), ``gt_time`` (``(start, end)`` seconds), ``num_clips``
    (clips of the stored features), ``v_len`` (clips after down-sampling).

    Data fields (tensors):
        * targets, each over the ``v_len`` valid clips: ``start_label`` / ``end_label`` ``[v_len]``
          soft boundary labels, ``match_label`` ``[v_len]`` B/I/E/O tags (long), ``gt_span``
          ``[2]`` clip indices (long, inclusive);
        * predictions: ``pred_moments`` ``[K, 2]`` seconds, ranked; ``pred_scores`` ``[K]``;
          optionally ``start_prob`` / ``end_prob`` ``[v_len]``.
    """
