"""Recurrent sentence encoder over frozen GloVe vectors (the text branch of 2D-TAN and SCDM)."""
from typing import Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mmemtm.text import UNK_ID, load_word_vocabulary

RNN_TYPES = {'lstm': nn.LSTM, 'gru': nn.GRU}


@MODELS.register_module()
class GloveRNNSentenceEncoder(nn.Module):
    """Frozen GloVe word vectors followed by a (bi)directional LSTM or GRU.

    The GloVe table (``[V, 300]``, ids of :class:`mmemtm.text.WordVocabulary`) is a frozen,
    non-persistent buffer rebuilt from ``vocab`` (checkpoints stay small); the PAD row is zero and
    the UNK row is a trainable vector. Padding is excluded by packing the sequences, so a query
    gives the same output however much the batch pads it.

    Args:
        vocab: GloVe subset folder or GloVe text file (the one the pipeline tokenises with).
        hidden_dim: Output size ``H`` of each word and of the sentence vector (split over the two
            directions when ``bidirectional``).
        num_layers: Recurrent layers.
        rnn_type: ``'lstm'`` or ``'gru'``.
        bidirectional: Read the sentence in both directions.
        dropout: Dropout on the word vectors and between recurrent layers.
    """

    def __init__(self, vocab: str, hidden_dim: int = 512, num_layers: int = 1,
                 rnn_type: str = 'lstm', bidirectional: bool = True,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if rnn_type not in RNN_TYPES:
            raise ValueError(f'rnn_type must be one of {sorted(RNN_TYPES)}, got {rnn_type!r}')
        if not vocab:
            raise ValueError('vocab must name the GloVe subset folder or text file that the '
                             'pipeline tokenises with')
        directions = 2 if bidirectional else 1
        if hidden_dim % directions:
            raise ValueError(f'hidden_dim {hidden_dim} must be divisible by {directions}')
        vectors = torch.from_numpy(load_word_vocabulary(vocab).vectors)
        self.register_buffer('glove', vectors, persistent=False)
        self.unk = nn.Parameter(torch.zeros(vectors.shape[1]))
        self.drop = nn.Dropout(dropout)
        self.rnn = RNN_TYPES[rnn_type](
            vectors.shape[1], hidden_dim // directions, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.hidden_dim = hidden_dim

    def embed(self, words: torch.Tensor) -> torch.Tensor:
        """Word vectors ``[B, N, 300]`` of word ids ``[B, N]``."""
        vectors = nn.functional.embedding(words, self.glove)
        return torch.where((words == UNK_ID)[..., None], self.unk.expand_as(vectors), vectors)

    def forward(self, words: torch.Tensor,
                word_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch of queries.

        Args:
            words: ``[B, N]`` word ids.
            word_mask: ``[B, N]`` real words (1) and padding (0).

        Returns:
            tuple: ``word_feats`` ``[B, N, H]`` (zero on padding) and ``sentence`` ``[B, H]``,
            the last layer's final states (forward state after the last word, backward state
            after the first word).
        """
        lengths = word_mask.sum(1).long().clamp(min=1).cpu()
        packed = pack_padded_sequence(self.drop(self.embed(words)), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, state = self.rnn(packed)
        word_feats, _ = pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        final = state[0] if isinstance(state, tuple) else state
        directions = 2 if self.rnn.bidirectional else 1
        sentence = final[-directions:].transpose(0, 1).reshape(len(words), -1)
        return word_feats, sentence
