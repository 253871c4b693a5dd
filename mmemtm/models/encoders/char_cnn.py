"""Character-level word features: embeddings, convolutions of several widths, max-pooling."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmemtm.text import CharVocabulary
from ..utils import glorot_init_cfg

#: Characters of :meth:`CharVocabulary.default` (PAD and UNK included), used by TokenizeQuery.
DEFAULT_NUM_CHARS = len(CharVocabulary.default())


class CharCNN(BaseModule):
    """Embeds the characters of every word and max-pools convolutions over them.

    For each width ``w`` a convolution with ``filters`` outputs (VALID padding, bias, ReLU) runs
    over the characters of a word; its outputs are max-pooled over the windows. Only windows
    that lie inside the word, plus the first window (which holds a short word padded with the
    zero PAD embedding), take part, so padding a batch to longer words never changes a word's
    features.

    Args:
        num_chars: Character vocabulary size (id 0 = PAD, a zero row that gets no gradient).
        char_dim: Character embedding size.
        filters: Output channels of each convolution.
        widths: Window widths (in characters) of the convolutions.
        drop_rate: Dropout on the character embeddings.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, num_chars: int = DEFAULT_NUM_CHARS, char_dim: int = 50,
                 filters: Sequence[int] = (10, 20, 30, 40), widths: Sequence[int] = (1, 2, 3, 4),
                 drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        if len(filters) != len(widths):
            raise ValueError(f'{len(filters)} filter counts for {len(widths)} widths')
        self.num_chars = num_chars
        self.widths = tuple(widths)
        self.out_dim = int(sum(filters))
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        with torch.no_grad():
            nn.init.xavier_uniform_(self.embedding.weight[1:])
        self.convs = nn.ModuleList(nn.Conv1d(char_dim, f, w) for f, w in zip(filters, widths))
        self.dropout = nn.Dropout(drop_rate)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """``chars`` ``[B, N, C]`` character ids (0 = PAD) -> ``[B, N, sum(filters)]``."""
        batch, words, length = chars.shape
        if length < max(self.widths):
            raise ValueError(f'words padded to {length} characters, fewer than the widest '
                             f'character convolution ({max(self.widths)}); pad chars to at '
                             'least that many (GroundingDataPreprocessor.min_chars)')
        if chars.numel() and int(chars.max()) >= self.num_chars:
            raise ValueError(f'character id {int(chars.max())} outside the {self.num_chars}-'
                             'character vocabulary of the model (num_chars)')
        flat = chars.reshape(batch * words, length)
        n_chars = (flat != 0).sum(-1, keepdim=True)
        x = self.dropout(self.embedding(flat)).transpose(1, 2)
        pooled = []
        for conv, width in zip(self.convs, self.widths):
            h = torch.relu(conv(x))
            start = torch.arange(h.shape[-1], device=chars.device)[None]
            valid = (start == 0) | (start + width <= n_chars)
            pooled.append(h.masked_fill(~valid[:, None], 0.0).amax(-1))
        return torch.cat(pooled, -1).reshape(batch, words, self.out_dim)
