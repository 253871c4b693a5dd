"""SeqPAN (Zhang et al., "Parallel Attention Network with Sequence Matching for Video
Grounding", ACL Findings 2021) as a span-based grounder built from EMTM's blocks."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample
from mmemtm.text import WordVocabulary
from ..grounders.base_grounder import BaseGrounder, TeacherOutputs
from ..utils import (build_part, decode_spans, refuse_moved_arguments, valid_lengths,
                     with_max_vlen)


#: Arguments of the flat constructor (before the nested part configs) -> their place now.
SEQPAN_MOVED_ARGUMENTS = {
    'num_chars': 'encoder.num_chars',
    'char_dim': 'encoder.char_dim',
    'char_filters': 'encoder.char_filters',
    'char_widths': 'encoder.char_widths',
    'num_attn_layers': 'attention.num_layers',
    'final_norm': 'attention.final_norm',
    'match_weight': 'head.match_weight',
}


@MODELS.register_module()
@refuse_moved_arguments(SEQPAN_MOVED_ARGUMENTS)
class SeqPANGrounder(BaseGrounder):
    """Embedding -> shared encoder -> dual attention blocks -> :class:`SpanGroundingHead`.

    The layers are those of EMTM's co-trained isomorphic teacher (docs/method.md §3.1-3.6);
    with ``attention=dict(num_layers=0)`` it is EMTM's student trained alone (the reference's
    ``BaseFast``). Loss: ``CE(start) + CE(end) + match_weight * (L_match + L_ortho)``.

    The parts are built from nested configs; the facts they share (``vocab``, ``max_vlen``,
    ``video_dim``, ``dim``, ``num_heads``, ``drop_rate``) are stated once, here, and filled into
    every part that takes them (:func:`build_part`), and ``max_vlen`` into the data
    preprocessor.

    Args:
        vocab: GloVe vocabulary path (the one ``TokenizeQuery`` uses) or vocabulary.
        max_vlen: Longest video in clips (position tables).
        video_dim: Clip feature dimension.
        dim: Model dimension ``D``.
        num_heads: Attention heads.
        drop_rate: Dropout rate (TACoS/ActivityNet 0.2, Charades-STA 0.4).
        encoder: Config of the embedding + shared encoder (:class:`QueryVideoEncoder`:
            ``char_dim`` TACoS 50, Charades-STA/ActivityNet 100...).
        attention: Config of the dual attention blocks (:class:`DualAttentionEncoder`:
            ``num_layers``, ``final_norm`` (default True; False: the reference)).
        head: Config of the head (:class:`SpanGroundingHead`: ``match_weight``...).
        topk: Moments returned per query.
        nms_thr: IoU of the temporal NMS between returned moments (None: plain top-k).
        max_span_len: Longest predicted span in clips (None: unlimited, as in the reference).
        data_preprocessor: Config of the data preprocessor.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 vocab: Union[str, WordVocabulary],
                 max_vlen: int,
                 video_dim: int = 1024,
                 dim: int = 128,
                 num_heads: int = 8,
                 drop_rate: float = 0.2,
                 encoder: Optional[dict] = None,
                 attention: Optional[dict] = None,
                 head: Optional[dict] = None,
                 topk: int = 5,
                 nms_thr: Optional[float] = 0.5,
                 max_span_len: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        if vocab is None or max_vlen is None:
            raise ValueError('SeqPANGrounder needs `vocab` (the GloVe path of TokenizeQuery, the '
                             'dataset config\'s `glove`) and `max_vlen`; set them on `model` in '
                             'the top-level config')
        super().__init__(data_preprocessor=with_max_vlen(data_preprocessor, max_vlen),
                         init_cfg=init_cfg)
        self.topk = topk
        self.nms_thr = nms_thr
        self.max_span_len = max_span_len
        shared = dict(vocab=vocab, max_vlen=max_vlen, video_dim=video_dim, dim=dim,
                      num_heads=num_heads, drop_rate=drop_rate)
        self.encoder = build_part(encoder or dict(type='QueryVideoEncoder'), shared, 'encoder')
        self.dual_attention = build_part(attention or dict(type='DualAttentionEncoder'), shared,
                                         'attention')
        self.head = build_part(head or dict(type='SpanGroundingHead'), shared, 'head')

    def encode(self, inputs: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Shared-encoder features ``(Venc [B, L, D], Qenc [B, N, D])`` of a batch."""
        return self.encoder.encode_inputs(inputs)

    def head_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """:meth:`SpanGroundingHead.forward` outputs (``start_logits``, ``end_logits``
        ``[B, L]``, ``match_logits`` ``[B, L, 4]``...) of a batch."""
        video, query = self.encode(inputs)
        video_mask, word_mask = inputs['video_mask'], inputs['word_mask']
        video, query = self.dual_attention(video, query, video_mask, word_mask)
        return self.head(video, query, video_mask, word_mask)

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.head_outputs(inputs), inputs['targets'],
                              inputs['video_mask'])

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        out = self.head_outputs(inputs)
        return decode_spans(out['start_logits'], out['end_logits'], inputs['video_mask'],
                            self.topk, self.nms_thr, self.max_span_len)

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> TeacherOutputs:
        """:meth:`BaseGrounder.teacher_outputs` of kind ``'span'``: ``start_logits`` /
        ``end_logits`` ``[B, L]`` of :meth:`head_outputs` on the batch's clip grid (values at
        padded clips are meaningless) and ``valid_len`` ``[B]`` (long, the valid clips)."""
        out = self.head_outputs(inputs)
        return dict(kind='span', start_logits=out['start_logits'],
                    end_logits=out['end_logits'], valid_len=valid_lengths(inputs['video_mask']))
