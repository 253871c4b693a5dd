import json

import numpy as np
import pytest

from mmemtm.text import (PAD_ID, UNK_ID, CharVocabulary, VocabularyError, WordVocabulary,
                         load_word_vocabulary, tokenize)


def test_real_tacos_subset(shared_data):
    vocab = WordVocabulary.from_subset(str(shared_data / 'glove_subsets' / 'tacos_glove42B_tgn'))
    raw = json.loads((shared_data / 'glove_subsets' / 'tacos_glove42B_tgn' /
                      'word2id.json').read_text())
    embeds = np.load(shared_data / 'glove_subsets' / 'tacos_glove42B_tgn' / 'embeds.npy')
    assert vocab.itos[:2] == ['<pad>', '<unk>']
    assert '<UNK>' not in vocab.stoi
    np.testing.assert_allclose(vocab.vectors[vocab.stoi['pan']], embeds[raw['pan']], rtol=1e-6)
    assert not vocab.vectors[:2].any()
    ids = vocab.encode(tokenize('He took out a pan zzqxv'))
    assert ids[-1] == UNK_ID and (ids[:-1] > UNK_ID).all()


@pytest.mark.parametrize('name', ['charades_glove42B_tgn', 'charades_glove6B_drn',
                                  'charades_glove6B_cpl'])
def test_other_subsets_load_and_drop_zero_rows(shared_data, name):
    vocab = WordVocabulary.from_subset(str(shared_data / 'glove_subsets' / name))
    assert len(vocab) > 1000
    assert np.all(np.abs(vocab.vectors[2:]).sum(1) > 0)
    assert vocab.encode(['person'])[0] > UNK_ID


def test_glove_text_file_and_save_round_trip(tmp_path):
    glove = tmp_path / 'glove.txt'
    glove.write_text('the 0.1 0.2 0.3\npan 1 2 3\n. . 0 0 1\negg 4 5 6\n', encoding='utf-8')
    vocab = WordVocabulary.from_glove_text(str(glove), keep={'pan', 'egg', '. .'})
    assert vocab.itos[2:] == ['pan', '. .', 'egg']
    vocab.save(str(tmp_path / 'subset'))
    again = load_word_vocabulary(str(tmp_path / 'subset'))
    assert again.itos == vocab.itos
    np.testing.assert_array_equal(again.vectors, vocab.vectors)


def test_query_without_known_words_maps_to_unk(tmp_path):
    vocab = WordVocabulary(['pan'], np.ones((1, 3)))
    assert vocab.encode(['zz', 'yy']).tolist() == [UNK_ID, UNK_ID]
    assert PAD_ID == 0


def test_bad_vocabulary_files(tmp_path):
    with pytest.raises(VocabularyError, match='does not exist'):
        WordVocabulary.from_subset(str(tmp_path))
    (tmp_path / 'word2id.json').write_text('{"pan": 5}')
    np.save(tmp_path / 'embeds.npy', np.ones((2, 3)))
    with pytest.raises(VocabularyError, match="'pan' points to row 5"):
        WordVocabulary.from_subset(str(tmp_path))
    bad = tmp_path / 'glove.txt'
    bad.write_text('pan 1 2 3\negg 4 x 6\n')
    with pytest.raises(VocabularyError, match='line 2'):
        WordVocabulary.from_glove_text(str(bad))


def test_char_vocabulary_encoding():
    chars = CharVocabulary.default()
    ids = chars.encode(['pan', 'é', 'a'])
    assert ids.shape == (3, 3)
    assert ids[0].tolist() == [chars.stoi['p'], chars.stoi['a'], chars.stoi['n']]
    assert ids[1].tolist() == [UNK_ID, PAD_ID, PAD_ID]
    assert chars.encode(['abcdef'], max_chars=4).shape == (1, 4)
    learned = CharVocabulary.from_texts([['aaa', 'ab'], ['b']], min_count=2)
    assert learned.itos[2:] == ['a', 'b']
