import pytest
import torch

from mmemtm.models.distillers import (AverageTeacherAggregator, KnowledgeAggregationUnit,
                                      aggregate_curves)


def inputs(batch=3, length=12, words=5, dim=16):
    video_mask = torch.zeros(batch, length)
    video_mask[0, :12] = 1
    video_mask[1, :7] = 1
    video_mask[2, :3] = 1
    word_mask = torch.ones(batch, words)
    word_mask[2, 2:] = 0
    return torch.randn(batch, length, dim), torch.randn(batch, words, dim), video_mask, word_mask


@pytest.mark.parametrize('norm', ['masked', 'frozen'])
def test_weights_sum_to_one_over_teachers(norm):
    kau = KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=3, norm=norm)
    weights = kau(*inputs())
    assert weights.shape == (3, 3, 2)
    torch.testing.assert_close(weights.sum(1), torch.ones(3, 2))
    assert (weights > 0).all()


def test_weights_depend_on_the_sample():
    torch.manual_seed(0)
    kau = KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=3).eval()
    weights = kau(*inputs())
    assert not torch.allclose(weights[0], weights[1])


def test_masked_query_pool_ignores_padded_words():
    kau = KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=2).eval()
    video, query, video_mask, word_mask = inputs()
    changed = query.clone()
    changed[2, 2:] = 50.0
    torch.testing.assert_close(kau(video, query, video_mask, word_mask),
                               kau(video, changed, video_mask, word_mask))
    reference = KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=2,
                                         masked_query_pool=False).eval()
    reference.load_state_dict(kau.state_dict())
    assert not torch.allclose(reference(video, query, video_mask, word_mask)[2],
                              reference(video, changed, video_mask, word_mask)[2])


def test_needs_the_fixed_clip_grid():
    kau = KnowledgeAggregationUnit(dim=16, max_vlen=10, num_teachers=2)
    with pytest.raises(ValueError, match='max_vlen=10'):
        kau(*inputs())


def test_frozen_norm_is_a_learned_scale_and_shift():
    kau = KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=2, norm='frozen')
    norm = kau.query_gate[1]
    x = torch.randn(4, 16)
    torch.testing.assert_close(norm(x), x / (1 + 1e-3)**0.5)
    with pytest.raises(ValueError, match='norm must be'):
        KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=2, norm='layer')


def test_average_and_aggregation():
    weights = AverageTeacherAggregator(num_teachers=4)(*inputs())
    torch.testing.assert_close(weights, torch.full((3, 4, 2), 0.25))
    curves = torch.rand(3, 4, 2, 12)
    mix = aggregate_curves(weights, curves)
    torch.testing.assert_close(mix, curves.mean(1))
    one_hot = torch.zeros(3, 4, 2)
    one_hot[:, 2, 0] = 1
    one_hot[:, 1, 1] = 1
    mix = aggregate_curves(one_hot, curves)
    torch.testing.assert_close(mix[:, 0], curves[:, 2, 0])
    torch.testing.assert_close(mix[:, 1], curves[:, 1, 1])


def _train_kau():
    torch.manual_seed(0)
    return KnowledgeAggregationUnit(dim=16, max_vlen=12, num_teachers=3).train()


def test_a_training_batch_of_one_works():
    kau = _train_kau()
    video, query, video_mask, word_mask = inputs()
    weights = kau(video[:1], query[:1], video_mask[:1], word_mask[:1])
    weights.sum().backward()
    assert weights.shape == (1, 3, 2) and torch.isfinite(weights).all()


def test_a_samples_weights_do_not_depend_on_the_rest_of_its_batch():
    kau = _train_kau()
    video, query, video_mask, word_mask = inputs()
    alone = kau(video[1:2], query[1:2], video_mask[1:2], word_mask[1:2])
    together = kau(video, query, video_mask, word_mask)[1:2]
    other = video.clone()
    other[0] *= 10
    changed = kau(other, query, video_mask, word_mask)[1:2]
    torch.testing.assert_close(alone, together)
    torch.testing.assert_close(together, changed)


def test_padded_clips_do_not_enter_the_statistics():
    kau = _train_kau()
    video, query, video_mask, word_mask = inputs()
    noisy = video + 100 * torch.randn_like(video) * (1 - video_mask[..., None])
    torch.testing.assert_close(kau(video, query, video_mask, word_mask),
                               kau(noisy, query, video_mask, word_mask))
