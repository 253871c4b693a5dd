from .tokenizer import tokenize
from .vocabulary import (PAD_ID, UNK_ID, CharVocabulary, VocabularyError, WordVocabulary,
                         count_words, load_word_vocabulary)

__all__ = [
    'tokenize', 'PAD_ID', 'UNK_ID', 'CharVocabulary', 'VocabularyError', 'WordVocabulary',
    'count_words', 'load_word_vocabulary'
]
