"""Tokenisation of the query sentence."""
from typing import Optional

from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmemtm.text import CharVocabulary, load_word_vocabulary, tokenize


@TRANSFORMS.register_module()
class TokenizeQuery(BaseTransform):
    """Turn ``sentence`` into word and character ids.

    Required keys: ``sentence``. Added keys: ``tokens`` (list of str), ``word_ids`` (``[N]``
    int64; unknown words are UNK), ``char_ids`` (``[N, C]`` int64, PAD-filled).

    Args:
        vocab: GloVe subset folder (``word2id.json`` + ``embeds.npy``) or GloVe text file; the
            model's embedding table must be built from the same path.
        max_words: Keep the first ``max_words`` tokens (Charades 20, ActivityNet/TACoS 30).
        max_chars: Keep the first ``max_chars`` characters of each word (None: all).
    """

    def __init__(self, vocab: str, max_words: int = 30, max_chars: Optional[int] = None) -> None:
        self.vocab_path = vocab
        self.max_words = max_words
        self.max_chars = max_chars
        self.chars = CharVocabulary.default()

    def transform(self, results: dict) -> dict:
        tokens = tokenize(results['sentence'])[:self.max_words]
        if not tokens:
            raise ValueError(f'query {results.get("query_id", "?")}: the sentence '
                             f'{results["sentence"]!r} has no words')
        results['tokens'] = tokens
        results['word_ids'] = load_word_vocabulary(self.vocab_path).encode(tokens)
        results['char_ids'] = self.chars.encode(tokens, self.max_chars)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(vocab={self.vocab_path!r}, '
                f'max_words={self.max_words}, max_chars={self.max_chars})')
