"""Embedding, projection and shared encoding of a batch of (video, query) pairs."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from mmemtm.text import WordVocabulary
from .char_cnn import DEFAULT_NUM_CHARS
from .query_embedding import QueryEmbedding
from .shared_encoder import SharedEncoder
from .video_projection import VideoProjection


@MODELS.register_module()
class QueryVideoEncoder(BaseModule):
    """:class:`QueryEmbedding` + :class:`VideoProjection` + :class:`SharedEncoder`.

    The part of EMTM shared by the student, the co-trained teacher and the KAU.

    Args:
        vocab: GloVe vocabulary or its path (the one ``TokenizeQuery`` uses).
        video_dim: Clip feature dimension ``Dv``.
        dim: Model dimension ``D``.
        max_vlen: Longest video in clips (rows of the shared position table).
        num_chars: Character vocabulary size.
        char_dim: Character embedding size.
        char_filters: Output channels of the character convolutions.
        char_widths: Widths of the character convolutions.
        num_conv_layers: Layers of the shared convolution block.
        kernel_size: Width of its depthwise convolutions.
        drop_rate: Dropout rate of every part.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, vocab: Union[str, WordVocabulary], video_dim: int = 1024,
                 dim: int = 128, max_vlen: int = 256, num_chars: int = DEFAULT_NUM_CHARS,
                 char_dim: int = 50, char_filters: Sequence[int] = (10, 20, 30, 40),
                 char_widths: Sequence[int] = (1, 2, 3, 4), num_conv_layers: int = 4,
                 kernel_size: int = 7, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.query_embedding = QueryEmbedding(vocab, dim, num_chars, char_dim, char_filters,
                                              char_widths, drop_rate)
        self.video_projection = VideoProjection(video_dim, dim, drop_rate)
        self.encoder = SharedEncoder(dim, max_vlen, num_conv_layers, kernel_size, drop_rate)

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, words: torch.Tensor,
                chars: torch.Tensor, word_mask: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``video`` ``[B, L, Dv]``, ``video_mask`` ``[B, L]``, ``words`` ``[B, N]``,
        ``chars`` ``[B, N, C]``, ``word_mask`` ``[B, N]`` -> ``(Venc [B, L, D],
        Qenc [B, N, D])``."""
        return (self.encode_video(video, video_mask),
                self.encode_query(words, chars, word_mask))

    def encode_video(self, video: torch.Tensor, video_mask: torch.Tensor) -> torch.Tensor:
        """The video stream alone: ``video`` ``[B, L, Dv]``, ``video_mask`` ``[B, L]`` ->
        ``Venc [B, L, D]`` (independent of the query, so it can be reused for many queries)."""
        return self.encoder.encode(self.video_projection(video, video_mask), video_mask)

    def encode_query(self, words: torch.Tensor, chars: torch.Tensor,
                     word_mask: torch.Tensor) -> torch.Tensor:
        """The query stream alone: ``words`` ``[B, N]``, ``chars`` ``[B, N, C]``, ``word_mask``
        ``[B, N]`` -> ``Qenc [B, N, D]``."""
        return self.encoder.encode(self.query_embedding(words, chars, word_mask), word_mask)

    def encode_inputs(self, inputs: Dict[str, torch.Tensor]
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The same from a batch ``inputs`` dict of :class:`GroundingDataPreprocessor`."""
        return self(inputs['video'], inputs['video_mask'], inputs['words'], inputs['chars'],
                    inputs['word_mask'])
