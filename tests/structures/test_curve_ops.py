"""Moving start/end curves between clip grids."""
import pytest
import torch

from mmemtm.structures.curve_ops import (change_curve_grid, rebin_boundary_curves, spread_curves,
                                      spread_weights)


@pytest.mark.parametrize('in_len, out_len', [(16, 64), (64, 16), (3, 5), (5, 3), (7, 7), (1, 4)])
def test_spread_weights_share_each_position_exactly(in_len, out_len):
    weights = spread_weights(in_len, out_len, torch.float64)
    assert weights.shape == (in_len, out_len) and (weights >= 0).all()
    torch.testing.assert_close(weights.sum(1), torch.ones(in_len, dtype=torch.float64))
    # every target clip is covered by the source grid as a whole: columns sum to in/out
    torch.testing.assert_close(weights.sum(0),
                               torch.full((out_len, ), in_len / out_len, dtype=torch.float64))


def test_spread_keeps_mass_and_sums_cells_on_a_coarser_grid():
    curves = torch.rand(3, 2, 64, dtype=torch.float64)
    coarse = spread_curves(curves, 16)
    torch.testing.assert_close(coarse, curves.reshape(3, 2, 16, 4).sum(-1))
    # on whole cells, going down is what boundary rebinning does; going up is not
    torch.testing.assert_close(coarse, rebin_boundary_curves(curves, 16))
    fine = spread_curves(coarse, 64)
    torch.testing.assert_close(fine.sum(-1), curves.sum(-1))
    torch.testing.assert_close(fine, coarse.repeat_interleave(4, -1) / 4)
    torch.testing.assert_close(change_curve_grid(coarse, 64, 'spread'), fine)


def test_change_curve_grid_names_unknown_modes():
    with pytest.raises(ValueError, match="'spread'"):
        change_curve_grid(torch.ones(2, 4), 8, 'nearest')
