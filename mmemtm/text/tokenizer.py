"""Offline word tokenizer close to NLTK's ``word_tokenize`` (Penn Treebank conventions).

The reference implementation tokenises with NLTK, which downloads its models at run time. This
tokenizer needs no data: it lower-cases, splits off punctuation and English clitics
(``didn't`` -> ``did n't``, ``he's`` -> ``he 's``) and keeps hyphenated and slashed words whole.
"""
import re
from typing import List

_CLITIC = re.compile(r"(?i)(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")
_PUNCT = re.compile(r'([,;:@#$%&?!()\[\]{}<>"*=+~`|\\^])')
_PERIOD = re.compile(r'(?<!\.)\.(?=\s|$)')
_ELLIPSIS = re.compile(r'\.\.\.+')
_OPEN_QUOTE = re.compile(r"(^|\s)'(?!(?:s|re|ve|ll|d|m)\b)(?=\S)")
_CLOSE_QUOTE = re.compile(r"(?<=[^\s'])'(?=\s|$)")


def tokenize(sentence: str) -> List[str]:
    """Split a sentence into lower-cased word tokens.

    Args:
        sentence: Free text, e.g. ``'He took out a pan.'``.

    Returns:
        list[str]: Tokens, e.g. ``['he', 'took', 'out', 'a', 'pan', '.']``.
    """
    text = sentence.strip().lower()
    text = _ELLIPSIS.sub(' ... ', text)
    text = _CLITIC.sub(r' \1', text)
    text = _PUNCT.sub(r' \1 ', text)
    text = _PERIOD.sub(' . ', text)
    text = _OPEN_QUOTE.sub(r"\1' ", text)
    text = _CLOSE_QUOTE.sub(" '", text)
    return text.split()
