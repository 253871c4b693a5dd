import math

import pytest
import torch

from mmemtm.models.layers import PositionEmbedding


def test_adds_the_first_rows_and_checks_length():
    torch.manual_seed(0)
    pos = PositionEmbedding(max_len=6, dim=4)
    limit = math.sqrt(6 / (6 + 4))
    assert pos.weight.abs().max() <= limit and pos.weight.std() > limit / 4
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(pos(x), x + pos.weight[:3])
    with pytest.raises(ValueError, match='7 positions is longer than the position table'):
        pos(torch.zeros(1, 7, 4))
