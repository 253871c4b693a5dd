import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmemtm.models.encoders import QueryEmbedding
from mmemtm.text import PAD_ID, UNK_ID, WordVocabulary

WORDS = ['person', 'cuts', 'the', 'onion', 'knife']


def _vocab() -> WordVocabulary:
    return WordVocabulary(WORDS, np.random.default_rng(0).standard_normal((5, 8)))


def _embedding(**kwargs) -> QueryEmbedding:
    torch.manual_seed(0)
    emb = QueryEmbedding(_vocab(), dim=16, num_chars=20, char_dim=4, char_filters=(2, 2, 2, 2),
                         **kwargs)
    emb.init_weights()
    return emb


def _batch():
    words = torch.tensor([[2, 3, UNK_ID, 4], [5, 6, 0, 0]])
    mask = (words != PAD_ID).float()
    chars = torch.randint(1, 20, (2, 4, 5)) * mask[..., None].long()
    return words, chars, mask


def test_shapes_and_padded_words_are_zero():
    words, chars, mask = _batch()
    out = _embedding().eval()(words, chars, mask)
    assert out.shape == (2, 4, 16)
    assert torch.all(out[1, 2:] == 0)
    assert torch.all(out[0].abs().sum(-1) > 0)


def test_word_vectors_pad_unk_and_glove():
    emb, vocab = _embedding(), _vocab()
    vecs = emb.word_vectors(torch.tensor([[PAD_ID, UNK_ID, 2, 6]]))
    assert torch.all(vecs[0, 0] == 0)
    torch.testing.assert_close(vecs[0, 1], emb.unk_vector[0])
    torch.testing.assert_close(vecs[0, 2:], torch.from_numpy(vocab.vectors[[2, 6]]))


def test_glove_is_frozen_and_only_unk_is_trained():
    emb = _embedding()
    words, chars, mask = _batch()
    glove_before = emb.word_table.weight.detach().clone()
    emb(words, chars, mask).pow(2).sum().backward()
    assert not emb.word_table.weight.requires_grad and emb.word_table.weight.grad is None
    assert emb.unk_vector.grad is not None and emb.unk_vector.grad.abs().sum() > 0
    trainable = {name for name, p in emb.named_parameters() if p.requires_grad}
    assert 'word_table.weight' not in trainable and 'unk_vector' in trainable
    torch.optim.SGD([p for p in emb.parameters() if p.requires_grad], lr=1.0).step()
    torch.testing.assert_close(emb.word_table.weight, glove_before, rtol=0, atol=0)


def test_more_word_and_char_padding_changes_nothing():
    emb = _embedding(drop_rate=0.5).eval()
    words, chars, mask = _batch()
    out = emb(words, chars, mask)
    padded = emb(F.pad(words, (0, 3)), F.pad(chars, (0, 4, 0, 3)), F.pad(mask, (0, 3)))
    torch.testing.assert_close(padded[:, :4], out)
    assert torch.all(padded[:, 4:] == 0)


def test_dropout_only_in_training():
    emb = _embedding(drop_rate=0.5)
    words, chars, mask = _batch()
    assert not torch.equal(emb.train()(words, chars, mask), emb(words, chars, mask))
    torch.testing.assert_close(emb.eval()(words, chars, mask), emb(words, chars, mask))


def test_vocabulary_from_path(tmp_path):
    _vocab().save(str(tmp_path / 'glove'))
    emb = QueryEmbedding(str(tmp_path / 'glove'), dim=16, char_dim=4)
    torch.testing.assert_close(emb.word_table.weight, torch.from_numpy(_vocab().vectors))
    with pytest.raises(ValueError, match='outside the 7-word vocabulary built from .*glove'):
        emb.word_vectors(torch.tensor([[7]]))
