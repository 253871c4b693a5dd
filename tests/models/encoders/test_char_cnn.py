import pytest
import torch
import torch.nn.functional as F

from mmemtm.models.encoders import CharCNN


def _cnn(**kwargs) -> CharCNN:
    torch.manual_seed(0)
    cnn = CharCNN(num_chars=12, char_dim=6, filters=(3, 4, 5, 6), **kwargs)
    cnn.init_weights()
    return cnn.eval()


def test_output_shape_and_pad_row():
    cnn = _cnn()
    chars = torch.randint(1, 12, (2, 5, 7))
    assert cnn(chars).shape == (2, 5, 18)
    assert cnn.out_dim == 18
    assert torch.all(cnn.embedding.weight[0] == 0)
    assert cnn.embedding.weight[1:].abs().sum() > 0


def test_padding_characters_never_win():
    # In float64: the convolutions of the 4- and 13-character batches may sum their windows in
    # another order (the kernel can depend on the length, by CPU), so only rounding-level
    # differences are allowed; a PAD window winning would change an output by O(0.1).
    cnn = _cnn().double()
    with torch.no_grad():  # windows made only of PAD characters would output ReLU(bias) = 5
        for conv in cnn.convs:
            conv.bias.fill_(5.0)
            conv.weight.neg_().abs_().neg_()
    words = torch.tensor([[[3, 0, 0, 0], [4, 5, 6, 0], [2, 3, 4, 5], [0, 0, 0, 0]]])
    short = cnn(words)
    long = cnn(F.pad(words, (0, 9)))
    torch.testing.assert_close(short, long, rtol=0, atol=1e-12)


def test_padding_invariance_with_default_init():
    cnn = _cnn()
    lengths = torch.tensor([1, 3, 6, 2])
    words = torch.randint(1, 12, (3, 4, 6)) * (torch.arange(6) < lengths[:, None])
    torch.testing.assert_close(cnn(words), cnn(F.pad(words, (0, 5))))


def test_windows_inside_a_word_are_all_pooled():
    cnn = _cnn()
    word = torch.tensor([[[2, 3, 4, 5, 6, 7]]])
    x = cnn.embedding(word[0]).transpose(1, 2)
    expected = torch.cat([torch.relu(conv(x)).amax(-1) for conv in cnn.convs], -1)
    torch.testing.assert_close(cnn(word)[0], expected)


def test_errors():
    cnn = _cnn()
    with pytest.raises(ValueError, match='widest character convolution'):
        cnn(torch.ones(1, 2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='outside the 12-character vocabulary'):
        cnn(torch.full((1, 2, 4), 12))
    with pytest.raises(ValueError, match='3 filter counts for 2 widths'):
        CharCNN(filters=(1, 2, 3), widths=(1, 2))
