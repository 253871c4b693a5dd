"""Query embedding: frozen GloVe words (trainable UNK) + character CNN, projected to ``D``."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmemtm.text import PAD_ID, UNK_ID, WordVocabulary, load_word_vocabulary
from ..utils import apply_mask, glorot_init_cfg, glorot_parameter
from .char_cnn import DEFAULT_NUM_CHARS, CharCNN


class QueryEmbedding(BaseModule):
    """Word and character features of the query, ``Q0`` ``[B, N, D]``.

    * Words: the GloVe table of ``vocab`` (PAD row zero) is frozen; only the UNK vector is
      trained. Dropout on the word vectors.
    * Characters: :class:`CharCNN` (dropout on the character embeddings).
    * ``[word; char]`` -> Linear -> LayerNorm (eps 1e-6); padded words are zeroed.

    Args:
        vocab: GloVe vocabulary, or its path (subset folder or GloVe text file) — the same path
            as ``TokenizeQuery``'s.
        dim: Output dimension ``D``.
        num_chars: Character vocabulary size.
        char_dim: Character embedding size (TACoS 50, Charades-STA/ActivityNet 100).
        char_filters: Output channels of the character convolutions.
        char_widths: Widths of the character convolutions.
        drop_rate: Dropout on the word and character embeddings.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, vocab: Union[str, WordVocabulary], dim: int = 128,
                 num_chars: int = DEFAULT_NUM_CHARS, char_dim: int = 50,
                 char_filters: Sequence[int] = (10, 20, 30, 40),
                 char_widths: Sequence[int] = (1, 2, 3, 4), drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        if not isinstance(vocab, (str, WordVocabulary)) or vocab == '':
            raise ValueError('vocab must be the GloVe subset folder or text file that '
                             f'TokenizeQuery uses (set the model\'s vocab), got {vocab!r}')
        self.vocab_source = vocab if isinstance(vocab, str) else 'the given vocabulary'
        vocab = load_word_vocabulary(vocab) if isinstance(vocab, str) else vocab
        self.word_table = nn.Embedding.from_pretrained(
            torch.from_numpy(vocab.vectors.copy()), freeze=True, padding_idx=PAD_ID)
        self.unk_vector = glorot_parameter(1, vocab.dim)
        self.char_cnn = CharCNN(num_chars, char_dim, char_filters, char_widths, drop_rate)
        self.dropout = nn.Dropout(drop_rate)
        self.proj = nn.Linear(vocab.dim + self.char_cnn.out_dim, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def word_vectors(self, words: torch.Tensor) -> torch.Tensor:
        """``words`` ``[B, N]`` ids -> ``[B, N, 300]`` GloVe vectors, the trained UNK vector for
        UNK and zeros for PAD."""
        if words.numel() and int(words.max()) >= self.word_table.num_embeddings:
            raise ValueError(
                f'word id {int(words.max())} outside the {self.word_table.num_embeddings}-word '
                f'vocabulary built from {self.vocab_source}: build TokenizeQuery and the model '
                'from the same GloVe path')
        vectors = self.word_table(words)
        return torch.where((words == UNK_ID)[..., None], self.unk_vector, vectors)

    def forward(self, words: torch.Tensor, chars: torch.Tensor,
                word_mask: torch.Tensor) -> torch.Tensor:
        """``words`` ``[B, N]``, ``chars`` ``[B, N, C]``, ``word_mask`` ``[B, N]`` ->
        ``Q0`` ``[B, N, D]`` (zero at padded words)."""
        features = torch.cat([self.dropout(self.word_vectors(words)), self.char_cnn(chars)], -1)
        return apply_mask(self.norm(self.proj(features)), word_mask)
