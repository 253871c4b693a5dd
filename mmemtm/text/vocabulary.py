"""Word vocabulary with its GloVe table, and character vocabulary.

Word ids: 0 = PAD, 1 = UNK, then the words that have a GloVe vector. The embedding table is
``[V, dim]`` with zero rows for PAD and UNK (the model makes the UNK row trainable).

Two sources of GloVe vectors:

* a GloVe text file (``glove.840B.300d.txt`` format: ``word v1 ... vD`` per line), optionally
  restricted to a set of words;
* a subset folder with ``word2id.json`` (word -> row) and ``embeds.npy`` (``[rows, dim]``), the
  layout of ``../shared/data/glove_subsets``. Special tokens (``<pad>``, ``<unk>``...) and all-zero
  rows (words the subset had no vector for) are dropped: such words map to UNK.
"""
import collections
import functools
import os.path as osp
import string
from typing import Dict, Iterable, List, Optional, Sequence, Set

import numpy as np

from mmemtm.utils import JsonFileError, atomic_write, dump_json_atomic, read_json
from mmemtm.utils.npy_files import NpyFileError, load_npy

PAD_TOKEN = '<pad>'
UNK_TOKEN = '<unk>'
PAD_ID = 0
UNK_ID = 1


class VocabularyError(ValueError):
    """A vocabulary file is missing or malformed."""


def _is_special(word: str) -> bool:
    return len(word) > 2 and word.startswith('<') and word.endswith('>')


def _check_vectors(vectors: np.ndarray, path: str, rows: Optional[Sequence[int]] = None) -> None:
    """Word vectors ``[rows, dim]`` read from ``path`` must be real, finite and dim >= 1.

    ``rows``: the file's line number of each row (text files), for the message.
    """
    if (vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.number)
            or np.issubdtype(vectors.dtype, np.complexfloating)):
        raise VocabularyError(f'{path} must be numeric [rows, dim], got {vectors.dtype} '
                              f'{vectors.shape}')
    if vectors.shape[1] < 1:
        raise VocabularyError(f'{path}: the word vectors have dimension 0 ({vectors.shape})')
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        where = f' (line {rows[bad]})' if rows is not None else f' (row {bad})'
        raise VocabularyError(f'{path} contains NaN or inf{where}')


class WordVocabulary:
    """Words with GloVe vectors.

    Args:
        words: Words in id order (ids start at 2).
        vectors: ``[len(words), dim]`` GloVe vectors of ``words``.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise VocabularyError(
                f'{len(words)} words but vectors of shape {tuple(vectors.shape)}')
        self.itos: List[str] = [PAD_TOKEN, UNK_TOKEN, *words]
        self.stoi: Dict[str, int] = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            twice = next(w for w, n in collections.Counter(self.itos).items() if n > 1)
            raise VocabularyError(f'the vocabulary holds the word {twice!r} twice')
        self.vectors = np.concatenate([np.zeros((2, vectors.shape[1]), np.float32), vectors])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi and self.stoi[word] > UNK_ID

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Word ids ``[N]`` (int64); unknown words get ``UNK_ID``."""
        return np.array([self.stoi.get(t, UNK_ID) for t in tokens], dtype=np.int64)

    @classmethod
    def from_subset(cls, folder: str) -> 'WordVocabulary':
        """Read a ``word2id.json`` + ``embeds.npy`` folder."""
        w2i_file = osp.join(folder, 'word2id.json')
        emb_file = osp.join(folder, 'embeds.npy')
        for path in (w2i_file, emb_file):
            if not osp.isfile(path):
                raise VocabularyError(f'GloVe subset file {path} does not exist')
        try:
            word2id = read_json(w2i_file)
        except JsonFileError as exc:
            raise VocabularyError(f'cannot read {w2i_file}: {exc.reason}') from exc
        except OSError as exc:
            raise VocabularyError(f'cannot read {w2i_file}: {exc}') from exc
        try:
            embeds = load_npy(emb_file)
        except NpyFileError as exc:
            raise VocabularyError(f'cannot read {exc}') from None
        except (OSError, ValueError, EOFError) as exc:
            raise VocabularyError(f'cannot read {emb_file}: {exc or "empty file"}') from exc
        if not isinstance(word2id, dict):
            raise VocabularyError(f'{w2i_file} must map words to row indices')
        _check_vectors(embeds, emb_file)
        for word, row in word2id.items():
            if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < len(embeds):
                raise VocabularyError(
                    f'{w2i_file}: word {word!r} points to row {row!r}, but {emb_file} has '
                    f'{len(embeds)} rows')
        words, rows = [], []
        for word, row in sorted(word2id.items(), key=lambda kv: kv[1]):
            if _is_special(word) or not np.any(embeds[row]):
                continue
            words.append(word)
            rows.append(row)
        return cls(words, embeds[rows])

    @classmethod
    def from_glove_text(cls, path: str, keep: Optional[Set[str]] = None) -> 'WordVocabulary':
        """Read a GloVe text file, keeping only the words in ``keep`` (all when None).

        Words keep the file's order; the first vector of a word repeated in the file wins.
        """
        if not osp.isfile(path):
            raise VocabularyError(f'GloVe file {path} does not exist')
        words, vectors, line_nos, seen, dim = [], [], [], set(), None
        with open(path, encoding='utf-8-sig', errors='replace') as f:
            for line_no, line in enumerate(f, 1):
                parts = line.rstrip('\n').rstrip(' ').split(' ')
                if dim is None:
                    dim = len(parts) - 1
                word = ' '.join(parts[:len(parts) - dim])
                if (keep is not None and word not in keep) or word in seen:
                    continue
                if len(parts) <= dim:
                    raise VocabularyError(f'{path}: line {line_no} has fewer than {dim} values')
                try:
                    vector = np.array(parts[len(parts) - dim:], dtype=np.float32)
                except ValueError as exc:
                    raise VocabularyError(f'{path}: line {line_no} is not `word v1 ... v{dim}`'
                                          ) from exc
                seen.add(word)
                words.append(word)
                vectors.append(vector)
                line_nos.append(line_no)
        if not words:
            raise VocabularyError(f'{path}: no usable GloVe vector found')
        vectors = np.stack(vectors)
        _check_vectors(vectors, path, rows=line_nos)
        return cls(words, vectors)

    def save(self, folder: str) -> None:
        """Write this vocabulary as a ``word2id.json`` + ``embeds.npy`` subset folder."""
        dump_json_atomic({w: i for i, w in enumerate(self.itos)},
                         osp.join(folder, 'word2id.json'), ensure_ascii=False)
        with atomic_write(osp.join(folder, 'embeds.npy'), 'wb') as f:
            np.save(f, self.vectors)


@functools.lru_cache(maxsize=8)
def load_word_vocabulary(path: str) -> WordVocabulary:
    """Load (once per process) the vocabulary at ``path``: a subset folder or a GloVe text file."""
    if not isinstance(path, str) or not path:
        raise VocabularyError(f'vocabulary path must name a GloVe subset folder or text file, '
                              f'got {path!r}')
    if osp.isdir(path):
        return WordVocabulary.from_subset(path)
    if not osp.exists(path):
        raise VocabularyError(f'vocabulary {path} does not exist: expected a GloVe subset folder '
                              '(word2id.json + embeds.npy) or a GloVe text file')
    return WordVocabulary.from_glove_text(path)


def count_words(token_lists: Iterable[Sequence[str]]) -> List[str]:
    """Words of ``token_lists`` ordered by decreasing frequency (first occurrence breaks ties)."""
    counts = collections.Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return [w for w, _ in counts.most_common()]


class CharVocabulary:
    """Characters of words: 0 = PAD, 1 = UNK, then ``chars``.

    Args:
        chars: Characters in id order (ids start at 2).
    """

    def __init__(self, chars: Sequence[str]) -> None:
        self.itos: List[str] = [PAD_TOKEN, UNK_TOKEN, *chars]
        self.stoi: Dict[str, int] = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def default(cls) -> 'CharVocabulary':
        """Lower-case letters, digits and ASCII punctuation (70 entries with PAD and UNK)."""
        return cls(string.ascii_lowercase + string.digits + string.punctuation)

    @classmethod
    def from_texts(cls, token_lists: Iterable[Sequence[str]], min_count: int = 5
                   ) -> 'CharVocabulary':
        """Characters seen at least ``min_count`` times, most frequent first."""
        counts = collections.Counter()
        for tokens in token_lists:
            for token in tokens:
                counts.update(token)
        return cls([c for c, n in counts.most_common() if n >= min_count])

    def encode(self, tokens: Sequence[str], max_chars: Optional[int] = None) -> np.ndarray:
        """Character ids ``[N, C]`` (int64, PAD-filled), ``C`` = longest token (capped)."""
        width = max((len(t) for t in tokens), default=1)
        if max_chars is not None:
            width = min(width, max_chars)
        ids = np.zeros((len(tokens), max(width, 1)), dtype=np.int64)
        for i, token in enumerate(tokens):
            for j, char in enumerate(token[:width]):
                ids[i, j] = self.stoi.get(char, UNK_ID)
        return ids
