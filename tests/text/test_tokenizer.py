import pytest

from mmemtm.text import tokenize


@pytest.mark.parametrize('sentence, tokens', [
    ('He took out a pan', ['he', 'took', 'out', 'a', 'pan']),
    ('person turn a light on.', ['person', 'turn', 'a', 'light', 'on', '.']),
    ("She didn't cut the chef's knife", ['she', 'did', "n't", 'cut', 'the', 'chef', "'s",
                                         'knife']),
    ("They've 'washed' seeds/waste, then...", ['they', "'ve", "'", 'washed', "'", 'seeds/waste',
                                               ',', 'then', '...']),
    ('  The girl dances around the walk-in closet!', ['the', 'girl', 'dances', 'around', 'the',
                                                     'walk-in', 'closet', '!']),
    ('#1 step: (slowly)', ['#', '1', 'step', ':', '(', 'slowly', ')']),
])
def test_tokenize_follows_treebank_conventions(sentence, tokens):
    assert tokenize(sentence) == tokens


def test_blank_sentence_has_no_tokens():
    assert tokenize('   ') == []
