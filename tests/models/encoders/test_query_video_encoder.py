import numpy as np
import torch
import torch.nn.functional as F

from mmemtm.models.encoders import QueryVideoEncoder
from mmemtm.text import WordVocabulary


def test_encoder_shapes_and_padding_invariance():
    torch.manual_seed(0)
    vocab = WordVocabulary(['a', 'b', 'c'], np.random.default_rng(0).standard_normal((3, 6)))
    enc = QueryVideoEncoder(vocab, video_dim=10, dim=8, max_vlen=12, num_chars=30, char_dim=4,
                            char_filters=(2, 2, 2, 2), drop_rate=0.3)
    enc.init_weights()
    enc.eval()
    video, video_mask = torch.randn(2, 5, 10), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).float()
    words, word_mask = torch.tensor([[2, 3, 4], [1, 2, 0]]), torch.tensor([[1, 1, 1], [1, 1, 0.]])
    chars = torch.randint(1, 30, (2, 3, 4)) * word_mask[..., None].long()
    v_enc, q_enc = enc(video, video_mask, words, chars, word_mask)
    assert v_enc.shape == (2, 5, 8) and q_enc.shape == (2, 3, 8)
    assert torch.all(v_enc[0, 3:] == 0) and torch.all(q_enc[1, 2] == 0)

    long_video = torch.cat([video, 10 * torch.randn(2, 4, 10)], 1)
    long_video[0, 3:5] = 7.0
    v_pad, q_pad = enc.encode_inputs(dict(
        video=long_video, video_mask=F.pad(video_mask, (0, 4)), words=F.pad(words, (0, 2)),
        chars=F.pad(chars, (0, 3, 0, 2)), word_mask=F.pad(word_mask, (0, 2))))
    torch.testing.assert_close(v_pad[:, :5], v_enc)
    torch.testing.assert_close(q_pad[:, :3], q_enc)
