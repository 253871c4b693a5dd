"""SeqPAN (Zhang et al., "Parallel Attention Network with Sequence Matching for Video
Grounding", ACL Findings 2021) as a span-based grounder built from EMTM's blocks."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample
from mmemtm.text import WordVocabulary
from ..encoders.char_cnn import DEFAULT_NUM_CHARS
from ..encoders.dual_attention_encoder import DualAttentionEncoder
from ..encoders.query_video_encoder import QueryVideoEncoder
from ..grounders.base_grounder import BaseGrounder
from ..heads.span_grounding_head import SpanGroundingHead
from ..utils import decode_spans, valid_lengths


@MODELS.register_module()
class SeqPANGrounder(BaseGrounder):
    """Embedding -> shared encoder -> dual attention blocks -> :class:`SpanGroundingHead`.

    The layers are those of EMTM's co-trained isomorphic teacher (method doc, sections 3.1-3.6);
    with ``num_attn_layers=0`` it is EMTM's student trained alone (the reference's
    ``BaseFast``). Loss: ``CE(start) + CE(end) + match_weight * (L_match + L_ortho)``.

    Args:
        vocab: GloVe vocabulary path (the one ``TokenizeQuery`` uses) or vocabulary.
        max_vlen: Longest video in clips (position tables).
        video_dim: Clip feature dimension.
        dim: Model dimension ``D``.
        num_heads: Attention heads.
        num_chars: Character vocabulary size.
        char_dim: Character embedding size (TACoS 50, Charades-STA/ActivityNet 100).
        char_filters: Output channels of the character convolutions.
        char_widths: Widths of the character convolutions.
        drop_rate: Dropout rate (TACoS/ActivityNet 0.2, Charades-STA 0.4).
        num_attn_layers: Dual attention blocks.
        final_norm: LayerNorm after the last block (default; False: the reference, see
            :class:`DualAttentionEncoder`).
        match_weight: ``lambda_m`` of the matching losses.
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
                 num_chars: int = DEFAULT_NUM_CHARS,
                 char_dim: int = 50,
                 char_filters: Sequence[int] = (10, 20, 30, 40),
                 char_widths: Sequence[int] = (1, 2, 3, 4),
                 drop_rate: float = 0.2,
                 num_attn_layers: int = 2,
                 final_norm: bool = True,
                 match_weight: float = 1.0,
                 topk: int = 5,
                 nms_thr: Optional[float] = 0.5,
                 max_span_len: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if vocab is None or max_vlen is None:
            raise ValueError('SeqPANGrounder needs `vocab` (the GloVe path of TokenizeQuery, the '
                             'dataset config\'s `glove`) and `max_vlen`; set them on `model` in '
                             'the top-level config')
        self.topk = topk
        self.nms_thr = nms_thr
        self.max_span_len = max_span_len
        self.encoder = QueryVideoEncoder(vocab, video_dim, dim, max_vlen, num_chars, char_dim,
                                         char_filters, char_widths, drop_rate=drop_rate)
        self.dual_attention = DualAttentionEncoder(dim, num_attn_layers, num_heads, drop_rate,
                                                   final_norm)
        self.head = SpanGroundingHead(dim, max_vlen, num_heads, drop_rate, match_weight)

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
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Teacher-output contract, ``kind='span'``: ``start_logits`` / ``end_logits``
        ``[B, L]`` on the batch's clip grid (values at padded clips are meaningless) and
        ``valid_len`` ``[B]``."""
        out = self.head_outputs(inputs)
        return dict(kind='span', start_logits=out['start_logits'],
                    end_logits=out['end_logits'], valid_len=valid_lengths(inputs['video_mask']))
