import pytest
import torch

from mmemtm.models import EMTM, curves_to_logits

GLOVE = 'demo/data/tacos_subset/glove'
L = 12
COTRAINED = dict(attention=dict(type='DualAttentionEncoder', num_layers=2))
SEPARATE = dict(COTRAINED, shared_encoder=False)


def build(**kwargs) -> EMTM:
    cfg = dict(vocab=GLOVE, max_vlen=L, video_dim=8, dim=16, num_heads=2, drop_rate=0.0,
               encoder=dict(type='QueryVideoEncoder', char_dim=8), cotrained=COTRAINED,
               num_teachers=3, aggregator=dict(type='KnowledgeAggregationUnit'))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = EMTM(**cfg)
    model.init_weights()
    return model


def batch(v_lens=(12, 7, 4), n_words=(5, 3, 2), teachers=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    b = len(v_lens)
    video_mask = (torch.arange(L)[None] < torch.tensor(v_lens)[:, None]).float()
    word_mask = (torch.arange(max(n_words))[None] < torch.tensor(n_words)[:, None]).float()
    start = torch.softmax(torch.randn(b, L, generator=g), -1) * video_mask
    end = torch.softmax(torch.randn(b, L, generator=g), -1) * video_mask
    return dict(
        video=torch.randn(b, L, 8, generator=g) * video_mask[..., None],
        video_mask=video_mask,
        words=torch.randint(2, 200, (b, max(n_words)), generator=g) * word_mask.long(),
        word_mask=word_mask,
        chars=torch.randint(2, 60, (b, max(n_words), 4), generator=g) * word_mask.long()[..., None],
        teacher_curves=torch.rand(b, teachers, 2, L, generator=g) * video_mask[:, None, None],
        targets=dict(start_label=start / start.sum(-1, keepdim=True),
                     end_label=end / end.sum(-1, keepdim=True),
                     match_label=torch.randint(0, 4, (b, L), generator=g),
                     gt_span=torch.zeros(b, 2, dtype=torch.long)))


@pytest.mark.parametrize('kwargs, expected', [
    (dict(), {'loss_student_start', 'loss_cotrained_start', 'loss_kau', 'loss_kd'}),
    (dict(num_teachers=0), {'loss_student_start', 'loss_cotrained_start'}),
    (dict(num_teachers=0, cotrained=None), {'loss_student_start'}),
    (dict(loss_align=dict(type='HiddenAlignmentLoss', loss_weight=0.1)),
     {'loss_student_start', 'loss_align', 'loss_kd'}),
])
def test_loss_terms_follow_the_configuration(kwargs, expected):
    losses = build(**kwargs).loss(batch(), None)
    assert expected <= set(losses)
    assert all(k.startswith('loss_') and torch.isfinite(v) for k, v in losses.items())
    if 'num_teachers' in kwargs:
        assert 'loss_kau' not in losses and 'loss_kd' not in losses


def test_predict_runs_the_student_alone():
    model = build().eval()
    calls = []
    parts = dict(cotrained_attention=model.cotrained['attention'],
                 cotrained_head=model.cotrained['head'], aggregator=model.aggregator)
    for name, module in parts.items():
        module.register_forward_hook(lambda *args, n=name: calls.append(n))
    data = batch()
    data.pop('teacher_curves')
    out = model.predict_spans(data)
    assert out['spans'].shape == (3, 5, 2) and calls == []
    model.train()
    model.loss(batch(), None)
    assert set(calls) == set(parts)


def test_predictions_are_inside_the_video_and_ordered():
    model = build().eval()
    out = model.predict_spans(batch())
    v_len = torch.tensor([12, 7, 4])
    top = out['spans'][:, 0]
    assert (top[:, 0] <= top[:, 1]).all() and (top[:, 1] < v_len).all()


def test_padding_never_changes_a_prediction():
    model = build().eval()
    short = batch(v_lens=(7, 7, 7), n_words=(3, 3, 3))
    padded = {k: v.clone() for k, v in short.items() if k != 'targets'}
    padded['video'][:, 7:] = 5.0  # garbage in padded clips
    padded['words'] = torch.cat([short['words'], torch.zeros(3, 4, dtype=torch.long)], 1)
    padded['word_mask'] = torch.cat([short['word_mask'], torch.zeros(3, 4)], 1)
    padded['chars'] = torch.cat([short['chars'], torch.zeros(3, 4, 4, dtype=torch.long)], 1)
    a, b = model.predict_spans(short), model.predict_spans(padded)
    torch.testing.assert_close(a['start_prob'], b['start_prob'])
    torch.testing.assert_close(a['spans'], b['spans'])


def test_teacher_curves_are_required_and_counted():
    with pytest.raises(ValueError, match='add LoadTeacherCurves'):
        data = batch()
        data.pop('teacher_curves')
        build().loss(data, None)
    with pytest.raises(ValueError, match='curves of 2 teachers, the model expects num_teachers=3'):
        build().loss(batch(teachers=2), None)
    with pytest.raises(ValueError, match='needs an `aggregator`'):
        build(aggregator=None)


def grads(model, loss, module):
    model.zero_grad()
    loss.backward(retain_graph=True)
    return sum(p.grad.abs().sum() for p in module.parameters() if p.grad is not None)


def test_shared_encoder_learns_from_the_cotrained_teacher_and_the_kau():
    model = build()
    losses = model.loss(batch(), None)
    assert grads(model, losses['loss_cotrained_start'], model.encoder) > 0
    assert grads(model, losses['loss_kau'], model.encoder) > 0
    assert grads(model, losses['loss_kau'], model.aggregator) > 0


def test_detached_aggregator_inputs_keep_the_kau_loss_off_the_shared_encoder():
    model = build(detach_aggregator_inputs=True)
    losses = model.loss(batch(), None)
    assert grads(model, losses['loss_kau'], model.encoder) == 0
    assert grads(model, losses['loss_kau'], model.aggregator) > 0
    assert grads(model, losses['loss_student_start'], model.encoder) > 0


def test_separate_encoders_keep_the_cotrained_teacher_off_the_student_encoder():
    model = build(cotrained=SEPARATE)
    losses = model.loss(batch(), None)
    assert grads(model, losses['loss_cotrained_start'], model.encoder) == 0
    assert grads(model, losses['loss_cotrained_start'], model.cotrained['encoder']) > 0


@pytest.mark.parametrize('mode, reaches_teacher', [('standard', False), ('reference', True)])
def test_label_kd_gradient_to_the_aggregator(mode, reaches_teacher):
    model = build(loss_kd=dict(type='LabelKDLoss', mode=mode),
                  curve_logits='identity' if mode == 'reference' else 'log')
    losses = model.loss(batch(), None)
    assert (grads(model, losses['loss_kd'], model.aggregator) > 0) == reaches_teacher
    assert grads(model, losses['loss_kd'], model.student) > 0


def test_average_aggregator_ablation():
    model = build(aggregator=dict(type='AverageTeacherAggregator'))
    data = batch()
    weights, mixture = model.teacher_mixture(data, *model.encoder.encode_inputs(data))
    torch.testing.assert_close(mixture, data['teacher_curves'].mean(1))
    assert not list(model.aggregator.parameters())


def test_fixed_teacher_weights_mix_the_curves_with_the_same_weights_for_every_query():
    model = build(aggregator=dict(type='FixedTeacherWeights', weights=[[2, 1], [1, 1], [1, 2]]),
                  cotrained=None)
    data = batch()
    weights, mixture = model.teacher_mixture(data, *model.encoder.encode_inputs(data))
    curves = data['teacher_curves']
    torch.testing.assert_close(mixture[:, 0], (2 * curves[:, 0, 0] + curves[:, 1, 0]
                                               + curves[:, 2, 0]) / 4)
    torch.testing.assert_close(mixture[:, 1], (curves[:, 0, 1] + curves[:, 1, 1]
                                               + 2 * curves[:, 2, 1]) / 4)
    losses = model.loss(data, None)
    assert grads(model, losses['loss_kd'], model.student) > 0
    assert 'aggregator.weights' in model.state_dict()


def test_curves_to_logits():
    curves = torch.tensor([[0.5, 0.25, 0.0]])
    logits = curves_to_logits(curves, 'log')
    torch.testing.assert_close(torch.softmax(logits, -1)[0, :2], torch.tensor([2 / 3, 1 / 3]),
                               atol=1e-5, rtol=0)
    assert curves_to_logits(curves, 'identity') is curves
    with pytest.raises(ValueError, match='curve_logits'):
        curves_to_logits(curves, 'exp')


def test_parameter_groups_at_tacos_settings():
    from tools.analysis.count_parameters import parameter_table
    model = EMTM(GLOVE, max_vlen=256, encoder=dict(type='QueryVideoEncoder', char_dim=50),
                 cotrained=COTRAINED, num_teachers=3,
                 aggregator=dict(type='KnowledgeAggregationUnit'))
    rows = {name: (trainable, frozen) for name, trainable, frozen in parameter_table(model)}
    assert 0.65e6 < rows['student'][0] < 0.75e6  # docs/method.md §9: ~0.71 M
    assert rows['student'][1] == model.encoder.query_embedding.word_table.weight.numel()
    assert 0.85e6 < rows['co-trained teacher'][0] < 1.0e6
    assert 30e3 < rows['teacher aggregator'][0] < 50e3


def test_one_video_path_encodes_the_video_once_and_matches():
    model = build().eval()
    data = batch(v_lens=(9, 9, 9))
    one = dict(data, video=data['video'][:1], video_mask=data['video_mask'][:1])
    calls = []
    model.encoder.video_projection.register_forward_hook(
        lambda module, args, out: calls.append(args[0].shape[0]))
    shared = model.predict_one_video(one)
    assert calls == [1]
    full = model.predict_spans(dict(data, video=one['video'].expand(3, -1, -1),
                                    video_mask=one['video_mask'].expand(3, -1)))
    torch.testing.assert_close(shared['start_prob'], full['start_prob'])
    torch.testing.assert_close(shared['spans'], full['spans'])


def _biases(module):
    return [p for n, p in module.named_parameters() if n.endswith('bias') and 'norm' not in n]


@pytest.mark.parametrize('shared', [True, False])
def test_init_weights_reaches_the_cotrained_branch(shared):
    model = build(cotrained=COTRAINED if shared else SEPARATE)
    for part in ('attention', 'head') + (() if shared else ('encoder', )):
        biases = _biases(model.cotrained[part])
        assert biases and all(float(b.abs().max()) == 0 for b in biases), part
    # The co-trained head starts from the same scheme as the student head: Glorot-uniform
    # kernels, so weight statistics agree (PyTorch's default init differs by ~x1.7 in std).
    student = model.student.predictor.start_head[0].weight
    cotrained = model.cotrained['head'].predictor.start_head[0].weight
    bound = (6 / sum(student.shape)) ** 0.5
    assert float(cotrained.abs().max()) <= bound + 1e-6
    assert float(cotrained.std()) == pytest.approx(float(student.std()), rel=0.1)


@pytest.mark.parametrize('variant', [
    dict(num_teachers=0, cotrained=None),
    dict(num_teachers=0),
    dict(aggregator=dict(type='AverageTeacherAggregator')),
    dict(aggregator=dict(type='FixedTeacherWeights', weights=[1.0, 2.0, 3.0])),
    dict(cotrained=SEPARATE),
])
def test_one_seed_gives_every_ablation_the_same_student_initialisation(variant):
    # The benchmark's comparisons are paired: the student parts are built and initialised first.
    full = build()
    other = build(**variant)
    for part in ('encoder', 'student'):
        mine, theirs = getattr(full, part).state_dict(), getattr(other, part).state_dict()
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[k], theirs[k]) for k in mine), part


def test_shared_facts_are_stated_once_and_reach_every_part():
    model = build(data_preprocessor=dict(type='GroundingDataPreprocessor'))
    assert model.data_preprocessor.max_vlen == L
    assert model.aggregator.max_vlen == L  # dim and max_vlen filled in from the model
    widths = {p.shape[-1] for n, p in model.named_parameters() if n.endswith('norm.weight')}
    assert widths == {16}  # every LayerNorm of every part has the model's dim
    with pytest.raises(ValueError, match=r"cotrained\.attention\.dim=32 differs from the "
                       r"model's dim=16"):
        build(cotrained=dict(attention=dict(type='DualAttentionEncoder', dim=32)))


def test_loss_weights_live_on_the_loss_modules():
    data = batch()
    light = build(loss_kd=dict(type='LabelKDLoss', loss_weight=0.1),
                  loss_kau=dict(type='SoftBoundaryLoss', loss_weight=1.0)).loss(data, None)
    heavy = build(loss_kd=dict(type='LabelKDLoss', loss_weight=0.3),
                  loss_kau=dict(type='SoftBoundaryLoss', loss_weight=2.0)).loss(data, None)
    torch.testing.assert_close(heavy['loss_kd'], 3 * light['loss_kd'])
    torch.testing.assert_close(heavy['loss_kau'], 2 * light['loss_kau'])


def test_the_aggregator_is_fitted_on_aggregator_curves_and_distils_teacher_curves():
    model = build(cotrained=None)
    data = batch()
    plain = model.loss(data, None)
    honest = torch.rand_like(data['teacher_curves']) * data['video_mask'][:, None, None]
    fitted = model.loss(dict(data, aggregator_curves=honest), None)
    torch.testing.assert_close(fitted['loss_kd'], plain['loss_kd'])
    assert not torch.allclose(fitted['loss_kau'], plain['loss_kau'])
    # loss_kau is the same aggregator's weights over the aggregator curves
    weights, _ = model.teacher_mixture(data, *model.encoder.encode_inputs(data))
    swapped = model.loss(dict(data, teacher_curves=honest), None)
    torch.testing.assert_close(fitted['loss_kau'], swapped['loss_kau'])
    assert weights.shape == (3, 3, 2)
