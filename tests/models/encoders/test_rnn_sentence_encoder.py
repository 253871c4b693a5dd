import pytest
import torch

from mmemtm.models.encoders import GloveRNNSentenceEncoder
from mmemtm.text import PAD_ID, UNK_ID, load_word_vocabulary


def test_embedding_uses_frozen_glove_and_a_trainable_unk(glove):
    encoder = GloveRNNSentenceEncoder(glove, hidden_dim=8)
    vocab = load_word_vocabulary(glove)
    word = vocab.itos[5]
    with torch.no_grad():
        encoder.unk.fill_(0.5)
    vectors = encoder.embed(torch.tensor([[PAD_ID, UNK_ID, vocab.stoi[word]]]))[0]
    assert vectors[0].abs().sum() == 0
    assert torch.all(vectors[1] == 0.5)
    assert torch.allclose(vectors[2], torch.from_numpy(vocab.vectors[vocab.stoi[word]]))
    trainable = {name for name, p in encoder.named_parameters() if p.requires_grad}
    assert 'unk' in trainable and not any('glove' in name for name in trainable)
    assert 'glove' not in encoder.state_dict()


@pytest.mark.parametrize('rnn_type,bidirectional', [('lstm', True), ('gru', False)])
def test_outputs_ignore_padding(glove, rnn_type, bidirectional):
    torch.manual_seed(0)
    encoder = GloveRNNSentenceEncoder(glove, hidden_dim=6, num_layers=2, rnn_type=rnn_type,
                                      bidirectional=bidirectional).eval()
    words = torch.tensor([[5, 9, 14, 3], [7, 2, 0, 0]])
    mask = (words > 0).float()
    feats, sentence = encoder(words, mask)
    assert feats.shape == (2, 4, 6) and sentence.shape == (2, 6)
    assert feats[1, 2:].abs().sum() == 0
    longer = torch.cat([words, torch.randint(2, 30, (2, 3))], 1)
    feats2, sentence2 = encoder(longer, torch.cat([mask, torch.zeros(2, 3)], 1))
    assert torch.allclose(sentence2, sentence, atol=1e-6)
    assert torch.allclose(feats2[:, :4], feats, atol=1e-6)
    _, alone_sentence = encoder(words[1:, :2], mask[1:, :2])
    assert torch.allclose(alone_sentence[0], sentence[1], atol=1e-6)


def test_bad_arguments(glove):
    with pytest.raises(ValueError, match='vocab must name'):
        GloveRNNSentenceEncoder(None)
    with pytest.raises(ValueError, match='rnn_type'):
        GloveRNNSentenceEncoder(glove, rnn_type='transformer')
    with pytest.raises(ValueError, match='divisible'):
        GloveRNNSentenceEncoder(glove, hidden_dim=7)
