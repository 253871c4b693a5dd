import pytest
import torch

from mmemtm.models.distillers import (AverageTeacherAggregator, FixedTeacherWeights,
                                      KnowledgeAggregationUnit, aggregate_curves,
                                      fit_mixture_weights)


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


def test_fixed_teacher_weights_are_normalised_per_side_and_the_same_for_every_query():
    weights = FixedTeacherWeights(num_teachers=3, weights=[[2, 1], [1, 1], [1, 2]])(*inputs())
    assert weights.shape == (3, 3, 2)
    torch.testing.assert_close(weights[1], weights[0])
    torch.testing.assert_close(weights[0], torch.tensor([[0.5, 0.25], [0.25, 0.25],
                                                         [0.25, 0.5]]))
    same = FixedTeacherWeights(num_teachers=2, weights=[3.0, 1.0])(*inputs())
    torch.testing.assert_close(same[0], torch.tensor([[0.75, 0.75], [0.25, 0.25]]))


@pytest.mark.parametrize('weights, match', [([1.0, 1.0], 'for 3 teachers'),
                                            ([1.0, -1.0, 1.0], 'non-negative'),
                                            ([[0, 1], [0, 1], [0, 1]], 'not all zero')])
def test_fixed_teacher_weights_refuse_bad_tables(weights, match):
    with pytest.raises(ValueError, match=match):
        FixedTeacherWeights(num_teachers=3, weights=weights)


def _mixture_data(true_weights, queries=20000, length=8, seed=0):
    """Random teacher curves ``[N, T, 2, L]`` and one-hot labels drawn from their mixture."""
    gen = torch.Generator().manual_seed(seed)
    teachers = true_weights.shape[0]
    curves = torch.rand(queries, teachers, 2, length, generator=gen) ** 4
    curves = curves / curves.sum(-1, keepdim=True)
    mixture = (true_weights[None, :, :, None] * curves).sum(1)  # [N, 2, L]
    drawn = torch.multinomial(mixture.reshape(-1, length), 1, generator=gen)
    labels = torch.zeros(queries * 2, length).scatter_(1, drawn, 1.0).reshape(queries, 2, length)
    return curves, labels


def _log_likelihood(weights, curves, labels):
    mixture = (weights[None, :, :, None] * curves).sum(1)
    return float((labels * mixture.clamp(min=1e-30).log()).sum())


def test_fitted_mixture_weights_recover_the_weights_the_labels_were_drawn_with():
    true_weights = torch.tensor([[0.6, 0.1], [0.3, 0.2], [0.1, 0.7]])
    curves, labels = _mixture_data(true_weights)
    fitted = fit_mixture_weights(curves, labels)
    assert fitted.shape == (3, 2)
    torch.testing.assert_close(fitted.sum(0), torch.ones(2))
    torch.testing.assert_close(fitted, true_weights, atol=0.05, rtol=0)


def test_fitted_mixture_weights_beat_the_average_and_every_single_teacher():
    curves, labels = _mixture_data(torch.tensor([[0.5, 0.5], [0.5, 0.0], [0.0, 0.5]]),
                                   queries=2000)
    best = _log_likelihood(fit_mixture_weights(curves, labels).double(), curves.double(),
                           labels.double())
    candidates = [torch.full((3, 2), 1 / 3)] + [torch.eye(3)[t][:, None].expand(3, 2)
                                                for t in range(3)]
    for weights in candidates:
        assert best >= _log_likelihood(weights.double(), curves.double(), labels.double())


def test_fitting_mixture_weights_checks_shapes():
    with pytest.raises(ValueError, match=r'labels \[N, 2, L\]'):
        fit_mixture_weights(torch.rand(4, 3, 2, 8), torch.rand(4, 2, 7))
