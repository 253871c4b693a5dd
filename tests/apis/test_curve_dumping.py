"""Monte-Carlo dropout curves: dropout sampling and the averaging of forward passes."""
import pytest
import torch
from torch import nn

from mmemtm.apis.curve_dumping import batch_entries, dropout_sampling
from mmemtm.models.converters import build_curve_converter


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.BatchNorm1d(16)).eval()


def test_dropout_sampling_drops_reproducibly_and_leaves_the_rest_in_eval_mode():
    net, x = _net(), torch.randn(8, 4)
    with torch.no_grad():
        plain = net(x)
        with dropout_sampling(net):
            first = [net(x), net(x)]
            assert net[1].training and not net[2].training and not net.training
        with dropout_sampling(net):
            again = [net(x), net(x)]
    assert not torch.allclose(first[0], first[1])  # each pass drops other units
    torch.testing.assert_close(first, again)  # the same seed draws the same masks
    assert not net[1].training
    torch.testing.assert_close(net(x), plain)


def test_dropout_sampling_keeps_the_global_random_state():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    with dropout_sampling(_net()):
        torch.rand(10)
    torch.manual_seed(5)
    torch.testing.assert_close(torch.rand(3), expected)


def test_dropout_sampling_needs_dropout():
    with pytest.raises(ValueError, match='no dropout layer'):
        with dropout_sampling(nn.Linear(2, 2)):
            pass


class _Sample:
    def __init__(self, i):
        self.query_id, self.video_id, self.sentence = f'v{i}#0', f'v{i}', f'sentence {i}'


def test_entries_average_the_curves_of_the_passes():
    converter = build_curve_converter('span')
    gen = torch.Generator().manual_seed(0)
    passes = [dict(kind='span', start_logits=torch.randn(2, 6, generator=gen),
                   end_logits=torch.randn(2, 6, generator=gen),
                   valid_len=torch.tensor([6, 4])) for _ in range(3)]
    inputs = dict(video_mask=torch.tensor([[1.0] * 6, [1.0] * 4 + [0.0] * 2]))
    entries = batch_entries(converter, passes, inputs, [_Sample(0), _Sample(1)], None)
    for b, size in enumerate((6, 4)):
        each = [converter.curves_on_teacher_grid(p, inputs['video_mask'].sum(1).long())[b]
                for p in passes]
        assert entries[b].curves.shape == (2, size)
        torch.testing.assert_close(torch.from_numpy(entries[b].curves), sum(each) / 3)
        assert not torch.allclose(each[0], each[1])
    single = batch_entries(converter, passes[:1], inputs, [_Sample(0), _Sample(1)], None)
    torch.testing.assert_close(torch.from_numpy(single[1].curves),
                               converter.curves_on_teacher_grid(passes[0],
                                                                torch.tensor([6, 4]))[1])
