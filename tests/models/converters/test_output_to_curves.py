"""Teacher-curve converters (teacher outputs to curves) on hand-made outputs with hand-computed
curves."""
import math

import pytest
import torch
from mmaction.registry import MODELS

import mmemtm  # noqa: F401
from mmemtm.models.converters import (Map2DCurveConverter, ProposalCurveConverter,
                                      SpanCurveConverter, build_curve_converter,
                                      gaussian_bumps, normalize_curves, resample_curves)


def test_resample_identity_endpoints_and_midpoints():
    x = torch.tensor([[0., 1., 4.], [2., -2., 2.]])
    assert torch.equal(resample_curves(x, 3), x)
    up = resample_curves(x, 5)
    assert torch.allclose(up, torch.tensor([[0., .5, 1., 2.5, 4.], [2., 0., -2., 0., 2.]]))
    down = resample_curves(torch.arange(7.), 4)  # reads positions 0, 2, 4, 6
    assert torch.allclose(down, torch.tensor([0., 2., 4., 6.]))
    odd = resample_curves(torch.tensor([0., 3.]), 4)  # positions 0, 1/3, 2/3, 1
    assert torch.allclose(odd, torch.tensor([0., 1., 2., 3.]))


def test_resample_length_one_either_side():
    assert torch.equal(resample_curves(torch.tensor([[5.], [7.]]), 3),
                       torch.tensor([[5., 5., 5.], [7., 7., 7.]]))
    assert torch.allclose(resample_curves(torch.tensor([1., 2., 6.]), 1), torch.tensor([2.]))
    assert torch.allclose(resample_curves(torch.tensor([0., 4.]), 1), torch.tensor([2.]))
    with pytest.raises(ValueError, match='>= 1'):
        resample_curves(torch.zeros(2, 0), 3)


def test_normalize_modes():
    x = torch.tensor([[3., 4., 0.], [1., 1., 2.]])
    assert torch.allclose(normalize_curves(x, 'l2'),
                          torch.tensor([[.6, .8, 0.], [1 / 6 ** .5, 1 / 6 ** .5, 2 / 6 ** .5]]))
    assert torch.allclose(normalize_curves(x, 'sum').sum(-1), torch.ones(2))
    assert torch.allclose(normalize_curves(x, 'max'), torch.tensor([[.75, 1., 0.], [.5, .5, 1.]]))
    assert normalize_curves(x, None) is x
    assert torch.equal(normalize_curves(torch.zeros(2, 3), 'l2'), torch.zeros(2, 3))
    with pytest.raises(ValueError, match='non-negative'):
        normalize_curves(-x, 'sum')
    with pytest.raises(ValueError, match='normalize must be one of'):
        normalize_curves(x, 'softmax')


def span_outputs(start, end, valid):
    return dict(kind='span', start_logits=torch.tensor(start), end_logits=torch.tensor(end),
                valid_len=torch.tensor(valid))


def test_span_converter_sigmoid_crop_then_resample():
    # Sample 0 has 3 valid teacher clips; its padded positions hold large garbage logits.
    # Sample 1 uses all 6 positions.
    logit = math.log(3.)  # sigmoid = 0.75
    outputs = span_outputs(
        [[0., logit, -logit, 9., 9., 9.], [0.] * 6],
        [[-logit, 0., logit, -9., -9., -9.], [logit] * 6], [3, 6])
    curves = SpanCurveConverter(activation="sigmoid")(outputs, torch.tensor([5, 2]))
    assert curves.shape == (2, 2, 5) and curves.dtype == torch.float32
    # sigmoid of the 3 valid logits: start [.5, .75, .25], end [.25, .5, .75]; rebinned 3 -> 5:
    # starts of clips 0, 1, 2 (times 0, 1/3, 2/3) land in clips 0, 1, 3; ends (times 1/3, 2/3,
    # 1) in the clips finishing there or containing them: 1, 3, 4.
    assert torch.allclose(curves[0], torch.tensor([[.5, .75, 0., .25, 0.],
                                                   [0., .25, 0., .5, .75]]))
    linear = SpanCurveConverter(activation="sigmoid", resample='linear')(outputs, [5, 2])
    assert torch.allclose(linear[0], torch.tensor([[.5, .625, .75, .5, .25],
                                                   [.25, .375, .5, .625, .75]]))
    # Resampling the padded length (the reference's bug) would give different values.
    buggy = resample_curves(torch.tensor([[0., logit, -logit, 9., 9., 9.]]).sigmoid(), 5)
    assert not torch.allclose(linear[0, 0], buggy[0], atol=1e-2)
    # 6 -> 2: three boundaries land in each clip, their values summed.
    assert torch.allclose(curves[1, :, :2], torch.tensor([[1.5, 1.5], [2.25, 2.25]]))
    assert torch.equal(curves[1, :, 2:], torch.zeros(2, 3))


def test_span_converter_options_and_errors():
    outputs = span_outputs([[1., 2., 3.]], [[0., 0., 5.]], [2])
    soft = SpanCurveConverter(activation='softmax')(outputs, [2])
    assert torch.allclose(soft.sum(-1), torch.ones(1, 2))
    assert torch.allclose(soft[0, 0], torch.tensor([1., 2.]).softmax(0))
    raw = SpanCurveConverter(activation=None, normalize='l2')(outputs, [2])
    assert torch.allclose(raw[0, 0], torch.tensor([1., 2.]) / 5 ** .5)
    with pytest.raises(ValueError, match='activation'):
        SpanCurveConverter(activation='relu')
    with pytest.raises(ValueError, match="lack \\['valid_len'\\]"):
        SpanCurveConverter()(dict(start_logits=torch.zeros(1, 3),
                                    end_logits=torch.zeros(1, 3)), [3])
    with pytest.raises(ValueError, match="kind='map2d'"):
        SpanCurveConverter()(dict(outputs, kind='map2d'), [3])
    with pytest.raises(ValueError, match='valid_len 4'):
        SpanCurveConverter()(span_outputs([[1., 2., 3.]], [[0., 0., 5.]], [4]), [3])
    with pytest.raises(ValueError, match='target_len has 2 entries'):
        SpanCurveConverter()(outputs, [3, 3])


def test_map2d_converter_row_and_column_maxima_over_valid_upper_triangle():
    big = 100.
    score_map = torch.tensor([[
        [1., 2., 0., big],
        [big, 3., 1., big],   # [1, 0] is below the diagonal: ignored
        [big, big, 4., big],
        [big, big, big, big],  # row/column 3 is past valid_len = 3: ignored
    ]])
    outputs = dict(kind='map2d', score_map=score_map, valid_len=torch.tensor([3]))
    raw = Map2DCurveConverter(normalize=None)(outputs, [3])
    assert torch.allclose(raw[0], torch.tensor([[2., 3., 4.], [1., 3., 4.]]))
    l2 = Map2DCurveConverter(normalize="l2")(outputs, [3])
    assert torch.allclose(l2[0, 0], torch.tensor([2., 3., 4.]) / 29 ** .5)
    assert torch.allclose(l2[0, 1], torch.tensor([1., 3., 4.]) / 26 ** .5)
    # Cells of a 3-cell grid on 5 clips cover clips 0-1, 1-3, 3-4: a cell's start lands on its
    # first clip, its end on its last.
    longer = Map2DCurveConverter(normalize=None)(outputs, [5], out_len=6)
    assert torch.allclose(longer[0], torch.tensor([[2., 3., 0., 4., 0., 0.],
                                                   [0., 1., 0., 3., 4., 0.]]))
    sig = Map2DCurveConverter(activation='sigmoid', normalize='max')(outputs, [3])
    assert torch.allclose(sig[0, 0], torch.tensor([2., 3., 4.]).sigmoid() / torch.tensor(4.)
                          .sigmoid())
    with pytest.raises(ValueError, match=r'\[B, T, T\]'):
        Map2DCurveConverter()(dict(score_map=torch.zeros(1, 3, 4),
                                     valid_len=torch.tensor([3])), [3])


def test_proposal_converter_bumps_peak_at_the_right_clips():
    # 8-clip grid: clip i is centred at (i + 0.5) / 8. 0.3125 = clip 2, 0.6875 = clip 5.
    outputs = dict(kind='proposals', proposals=torch.tensor([[[0.3125, 0.6875]]]),
                   scores=torch.tensor([[1.]]))
    curves = ProposalCurveConverter(normalize=None)(outputs, [8])
    assert curves[0, 0].argmax() == 2 and curves[0, 1].argmax() == 5
    assert torch.isclose(curves[0, 0, 2], torch.tensor(1.))
    # one clip away = 0.25 on the [-1, 1] axis: exp(-0.25^2 / (2 * 0.1^2)) = exp(-3.125)
    assert torch.isclose(curves[0, 0, 1], torch.tensor(math.exp(-3.125)))
    assert torch.isclose(curves[0, 1, 6], torch.tensor(math.exp(-3.125)))
    l2 = ProposalCurveConverter(normalize="l2")(outputs, [8])
    assert torch.allclose(l2.norm(dim=-1), torch.ones(1, 2))


def test_proposal_converter_weights_topk_and_independent_samples():
    props = torch.tensor([[[0.1, 0.3], [0.6, 0.9]], [[0.5, 0.5], [0.0, 1.0]]])
    scores = torch.tensor([[2., 0.5], [1., 0.]])
    outputs = dict(kind='proposals', proposals=props, scores=scores)
    converter = ProposalCurveConverter(normalize=None)
    both = converter(outputs, [10, 4])
    expected0 = 2 * gaussian_bumps(torch.tensor([0.1]), torch.ones(1), 10, 0.1) + \
        0.5 * gaussian_bumps(torch.tensor([0.6]), torch.ones(1), 10, 0.1)
    assert torch.allclose(both[0, 0], expected0)
    # sample 1 alone gives the same curves: nothing leaks from sample 0
    alone = converter(dict(proposals=props[1:], scores=scores[1:]), [4])
    assert torch.allclose(both[1, :, :4], alone[0]) and torch.equal(both[1, :, 4:],
                                                                      torch.zeros(2, 6))
    top1 = ProposalCurveConverter(normalize=None, topk=1)(outputs, [10, 4])
    assert torch.allclose(top1[0, 0], 2 * gaussian_bumps(torch.tensor([0.1]), torch.ones(1), 10,
                                                         0.1))


def test_proposal_converter_rejects_bad_proposals():
    converter = ProposalCurveConverter()
    with pytest.raises(ValueError, match='sample 0 has proposals outside'):
        converter(dict(proposals=torch.tensor([[[3., 10.]]]), scores=torch.ones(1, 1)), [8])
    with pytest.raises(ValueError, match='start is after its end'):
        converter(dict(proposals=torch.tensor([[[.8, .2]]]), scores=torch.ones(1, 1)), [8])
    with pytest.raises(ValueError, match='negative scores'):
        converter(dict(proposals=torch.tensor([[[.2, .8]]]), scores=-torch.ones(1, 1)), [8])
    with pytest.raises(ValueError, match='grid_len'):
        converter.curves_on_teacher_grid(dict(proposals=torch.tensor([[[.2, .8]]]),
                                              scores=torch.ones(1, 1)))


def test_curves_on_teacher_grid_crops_without_resampling():
    outputs = span_outputs([[0., 1., 2., 3.], [1., 1., 1., 1.]], [[0.] * 4, [2.] * 4], [2, 4])
    curves = SpanCurveConverter(activation=None).curves_on_teacher_grid(outputs)
    assert [c.shape for c in curves] == [(2, 2), (2, 4)]
    assert torch.equal(curves[0][0], torch.tensor([0., 1.]))
    props = dict(proposals=torch.tensor([[[.2, .8]], [[.1, .4]]]), scores=torch.ones(2, 1))
    drawn = ProposalCurveConverter().curves_on_teacher_grid(props, torch.tensor([5, 7]))
    assert [c.shape for c in drawn] == [(2, 5), (2, 7)]


def test_build_by_kind_and_registry():
    assert isinstance(build_curve_converter('span'), SpanCurveConverter)
    assert isinstance(build_curve_converter('map2d'), Map2DCurveConverter)
    converter = build_curve_converter('proposals', dict(type='ProposalCurveConverter', sigma=.2))
    assert converter.sigma == .2
    assert isinstance(MODELS.build(dict(type='SpanCurveConverter')), SpanCurveConverter)
    with pytest.raises(ValueError, match='unknown teacher output kind'):
        build_curve_converter('heatmap')
    with pytest.raises(ValueError, match="kind='span'"):
        build_curve_converter('span', dict(type='Map2DCurveConverter'))


def test_a_config_with_the_old_converter_name_says_what_it_is_called_now():
    with pytest.raises(ValueError, match="SpanTeacherCurveHead was renamed SpanCurveConverter"):
        build_curve_converter('span', dict(type='SpanTeacherCurveHead', activation='softmax'))


def test_default_curves_are_distributions():
    span = SpanCurveConverter()(span_outputs([[0., 1., 2., 9.]], [[2., 0., 0., 9.]], [3]), [3])
    torch.testing.assert_close(span.sum(-1), torch.ones(1, 2))
    torch.testing.assert_close(span[0, 0], torch.tensor([0., 1., 2.]).softmax(-1))
    maps = Map2DCurveConverter()(dict(score_map=torch.rand(2, 4, 4),
                                        valid_len=torch.tensor([4, 3])), [4, 3])
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 2))
    props = ProposalCurveConverter()(dict(proposals=torch.tensor([[[.2, .6], [.1, .9]]]),
                                            scores=torch.tensor([[.9, .3]])), [10])
    torch.testing.assert_close(props.sum(-1), torch.ones(1, 2))


def _decoded_iou(curves, gt, length):
    """Mean IoU of the argmax span of outer(start, end) (upper triangle) against ``gt`` clips."""
    ious = []
    for c, (s, e) in zip(curves, gt):
        joint = (c[0, :length, None] * c[1, None, :length]).triu()
        flat = int(joint.argmax())
        ps, pe = divmod(flat, length)
        inter = max(0, min(pe, e) - max(ps, s) + 1)
        ious.append(inter / (max(pe, e) - min(ps, s) + 1))
    return sum(ious) / len(ious)


def _random_spans(num, cells, seed=0):
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, cells, (num, ), generator=g)
    ends = starts + (torch.rand(num, generator=g) * (cells - starts)).long()
    return torch.stack([starts, ends], -1)


@pytest.mark.parametrize('cells', [64, 32, 16])
def test_a_perfect_map_teacher_decodes_to_its_own_moments(cells):
    length, num = 64, 200
    spans = _random_spans(num, cells)
    score_map = torch.zeros(num, cells, cells)
    score_map[torch.arange(num), spans[:, 0], spans[:, 1]] = 1.
    outputs = dict(kind='map2d', score_map=score_map, valid_len=torch.full((num, ), cells))
    curves = Map2DCurveConverter()(outputs, [length] * num)
    ratio = length // cells  # the clip span of cell span (i, j): (i * r, (j + 1) * r - 1)
    gt = [(int(s) * ratio, (int(e) + 1) * ratio - 1) for s, e in spans]
    assert _decoded_iou(curves, gt, length) >= 0.99


@pytest.mark.parametrize('teacher_len', [64, 128, 256])
def test_a_perfect_span_teacher_on_a_finer_grid_decodes_to_its_moments(teacher_len):
    length, num = 64, 200
    spans = _random_spans(num, length, seed=1)  # moments representable on the student grid
    ratio = teacher_len // length
    logits = torch.full((num, 2, teacher_len), -30.)
    logits[torch.arange(num), 0, spans[:, 0] * ratio] = 30.
    logits[torch.arange(num), 1, (spans[:, 1] + 1) * ratio - 1] = 30.
    outputs = span_outputs(logits[:, 0].tolist(), logits[:, 1].tolist(), [teacher_len] * num)
    curves = SpanCurveConverter()(outputs, [length] * num)
    assert _decoded_iou(curves, spans.tolist(), length) >= 0.99
    torch.testing.assert_close(curves.sum(-1), torch.ones(num, 2))


def test_normalised_on_the_target_grid_every_teacher_weighs_the_same():
    # A map teacher on 16 cells and a span teacher on 64 clips, both on the 64-clip student grid:
    # each curve sums to 1 there (normalising on 16 cells, then interpolating, gave 4).
    score_map = torch.rand(1, 16, 16)
    curves = Map2DCurveConverter()(dict(kind='map2d', score_map=score_map,
                                          valid_len=torch.tensor([16])), [64])
    torch.testing.assert_close(curves.sum(-1), torch.ones(1, 2))
    span = SpanCurveConverter()(span_outputs([[0.] * 64], [[0.] * 64], [64]), [64])
    torch.testing.assert_close(span.sum(-1), torch.ones(1, 2))
