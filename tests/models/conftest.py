"""Shared fixtures of the model tests: the bundled GloVe subset and random batches."""
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_ROOT = REPO_ROOT / 'demo' / 'data' / 'tacos_subset'


@pytest.fixture(scope='session')
def glove() -> str:
    """The bundled demo GloVe subset (the vocabulary of the demo pipeline)."""
    return str(DEMO_ROOT / 'glove')


@pytest.fixture
def make_inputs() -> Callable[..., Dict[str, torch.Tensor]]:
    """Build a preprocessed batch: random clip features and word ids, padded with garbage.

    ``make_inputs(v_lens, n_words, length=None, max_words=None, dim=16, seed=0)``; the padding
    of the video and of the words holds random values, so a model that reads padding fails the
    invariance tests.
    """

    def build(v_lens: Sequence[int], n_words: Sequence[int], length: Optional[int] = None,
              max_words: Optional[int] = None, dim: int = 16,
              seed: int = 0) -> Dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        length = length or max(v_lens)
        max_words = max_words or max(n_words)
        video_mask = (torch.arange(length)[None] < torch.tensor(v_lens)[:, None]).float()
        word_mask = (torch.arange(max_words)[None] < torch.tensor(n_words)[:, None]).float()
        return dict(
            video=torch.randn(len(v_lens), length, dim, generator=gen),
            video_mask=video_mask,
            words=torch.randint(1, 60, (len(v_lens), max_words), generator=gen),
            word_mask=word_mask)

    return build


def _pad(inputs: Dict[str, torch.Tensor], extra_clips: int,
         extra_words: int) -> Dict[str, torch.Tensor]:
    batch, _, dim = inputs['video'].shape
    gen = torch.Generator().manual_seed(123)
    return dict(
        video=torch.cat([inputs['video'], torch.randn(batch, extra_clips, dim, generator=gen)],
                        1),
        video_mask=torch.cat([inputs['video_mask'], torch.zeros(batch, extra_clips)], 1),
        words=torch.cat([inputs['words'], torch.zeros(batch, extra_words, dtype=torch.long)], 1),
        word_mask=torch.cat([inputs['word_mask'], torch.zeros(batch, extra_words)], 1))


@pytest.fixture
def pad_inputs() -> Callable[..., Dict[str, torch.Tensor]]:
    """``pad_inputs(inputs, extra_clips, extra_words)``: the same queries with more padding
    (random clip features, PAD word ids)."""
    return _pad
