import torch

from mmemtm.models.teachers.clip_grid import (clip_pooling_matrix, fractions_to_clip_spans,
                                              grid_candidate_moments, grid_lengths,
                                              grid_spans_to_clip_spans, pool_clips_to_grid)


def test_grid_lengths_keep_short_videos_unless_upsampled():
    v_len = torch.tensor([5, 12, 0])
    assert grid_lengths(v_len, 8).tolist() == [5, 8, 1]
    assert grid_lengths(v_len, 8, upsample=True).tolist() == [8, 8, 8]


def test_pooling_matrix_bins_by_hand():
    # 10 clips into 4 cells: floor(k * 10 / 4) .. ceil((k + 1) * 10 / 4) - 1.
    weights = clip_pooling_matrix(torch.tensor([10]), torch.tensor([4]), 4, 12)[0]
    members = [row.nonzero()[:, 0].tolist() for row in weights]
    assert members == [[0, 1, 2], [2, 3, 4], [5, 6, 7], [7, 8, 9]]
    assert torch.allclose(weights.sum(1), torch.ones(4))


def test_pooling_matrix_identity_for_short_videos_and_upsampling():
    weights = clip_pooling_matrix(torch.tensor([5]), torch.tensor([5]), 8, 6)[0]
    assert torch.equal(weights[:5, :5], torch.eye(5))
    assert weights[5:].abs().sum() == 0 and weights[:, 5].abs().sum() == 0
    up = clip_pooling_matrix(torch.tensor([3]), torch.tensor([6]), 6, 3)[0]
    assert up.argmax(1).tolist() == [0, 0, 1, 1, 2, 2]
    assert torch.equal(up.sum(1), torch.ones(6))


def test_pool_clips_ignores_padding():
    video = torch.randn(2, 9, 3)
    mask = torch.tensor([[1.0] * 9, [1.0] * 6 + [0.0] * 3])
    feats, grid_len = pool_clips_to_grid(video, mask, 3)
    assert grid_len.tolist() == [3, 3]
    assert torch.allclose(feats[1, 1], video[1, 2:4].mean(0))
    garbage = video.clone()
    garbage[1, 6:] = 100.0
    assert torch.allclose(pool_clips_to_grid(garbage, mask, 3)[0], feats)


def test_grid_spans_map_to_the_clips_they_cover():
    spans = torch.tensor([[[1, 2], [0, 3], [2, 1], [3, 4]]])
    clips = grid_spans_to_clip_spans(spans, torch.tensor([4]), torch.tensor([10]))
    # (1, 2): clips 2 .. ceil(30 / 4) - 1 = 7; (0, 3): all; (2, 1): start > end stays invalid;
    # (3, 4): beyond the grid, end >= v_len.
    assert clips[0, :2].tolist() == [[2, 7], [0, 9]]
    assert clips[0, 2, 0] > clips[0, 2, 1]
    assert clips[0, 3, 1] >= 10


def test_candidate_moments_in_seconds():
    moments = grid_candidate_moments(torch.tensor([4]), torch.tensor([10]),
                                     torch.tensor([20.0]), 4)
    assert moments.shape == (1, 4, 4, 2)
    # cells of 2.5 clips of 2 s: span (1, 2) covers clips 2..7, i.e. [4 s, 16 s].
    assert moments[0, 1, 2].tolist() == [4.0, 16.0]
    assert moments[0, 0, 3].tolist() == [0.0, 20.0]


def test_fractions_to_clip_spans_rounds_to_nearest_boundaries():
    moments = torch.tensor([[[0.23, 0.61], [0.5, 0.5], [0.97, 1.0], [0.0, 0.02]]])
    spans = fractions_to_clip_spans(moments, torch.tensor([10]))
    assert spans[0].tolist() == [[2, 5], [5, 5], [9, 9], [0, 0]]
