from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmemtm  # noqa: F401
from mmemtm.models.teachers import SeqPANGrounder
from mmemtm.structures import GroundingDataSample
from mmemtm.text import WordVocabulary

REPO = Path(__file__).resolve().parents[3]


def _model(**kwargs) -> SeqPANGrounder:
    torch.manual_seed(0)
    vocab = WordVocabulary(['cut', 'the', 'onion'], np.random.default_rng(0).random((3, 6)))
    cfg = dict(max_vlen=16, video_dim=10, dim=8, num_heads=2, drop_rate=0.3,
               encoder=dict(type='QueryVideoEncoder', num_chars=30, char_dim=4,
                            char_filters=(2, 2, 2, 2)))
    cfg.update(kwargs)
    model = SeqPANGrounder(vocab, **cfg)
    model.init_weights()
    return model


def _inputs(v_lens=(7, 10), n_words=(3, 2), length=10, words=4, chars=5):
    torch.manual_seed(1)
    batch = len(v_lens)
    video_mask = (torch.arange(length)[None] < torch.tensor(v_lens)[:, None]).float()
    word_mask = (torch.arange(words)[None] < torch.tensor(n_words)[:, None]).float()
    word_ids = torch.randint(1, 5, (batch, words)) * word_mask.long()
    return dict(video=torch.randn(batch, length, 10) * video_mask[..., None],
                video_mask=video_mask, words=word_ids, word_mask=word_mask,
                chars=torch.randint(1, 30, (batch, words, chars)) * word_mask[..., None].long())


def _targets(v_lens=(7, 10), length=10):
    start = torch.zeros(len(v_lens), length)
    end = torch.zeros(len(v_lens), length)
    start[:, 1], end[:, 4] = 1.0, 1.0
    match = torch.zeros(len(v_lens), length, dtype=torch.long)
    match[:, 1:5] = torch.tensor([1, 2, 2, 3])
    return dict(start_label=start, end_label=end, match_label=match,
                gt_span=torch.tensor([[1, 4]] * len(v_lens)))


def _double(tree):
    if isinstance(tree, dict):
        return {k: _double(v) for k, v in tree.items()}
    return tree.double() if torch.is_tensor(tree) and tree.is_floating_point() else tree


#: Parameters whose gradient is zero in exact arithmetic: each adds one value to every position of
#: a softmax over positions (key biases add ``q . b`` to every key of a query; the boundary heads'
#: output biases add to every clip's logit), which the softmax ignores.
SHIFT_INVARIANT = {
    *(f'dual_attention.blocks.{i}.{kind}_key.bias' for i in (0, 1) for kind in ('self', 'cross')),
    'head.predictor.feature_encoder.attention.key.bias', 'head.predictor.start_head.2.bias',
    'head.predictor.end_head.2.bias'}


def test_loss_terms_and_gradients():
    """Gradients in float64, where what is zero in exact arithmetic is ~1e-17 on every CPU (in
    float32 it is rounding noise or exactly 0, depending on the CPU's kernels)."""
    model = _model(head=dict(type='SpanGroundingHead', match_weight=0.5)).double()
    inputs = _double(dict(_inputs(), targets=_targets()))
    losses = model(inputs, mode='loss')
    assert set(losses) == {'loss_start', 'loss_end', 'loss_match', 'loss_ortho'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = {n: 0.0 if p.grad is None else p.grad.abs().max().item()
             for n, p in model.named_parameters() if p.requires_grad}
    scale = max(grads.values())
    assert {n for n, g in grads.items() if g <= 1e-9 * scale} == SHIFT_INVARIANT
    assert model.encoder.query_embedding.word_table.weight.grad is None


def test_loss_needs_targets():
    with pytest.raises(ValueError, match='BuildGroundingTargets'):
        _model()(_inputs(), mode='loss')


def test_predict_spans_and_moments():
    model = _model().eval()
    inputs = _inputs()
    out = model(inputs, mode='tensor')
    assert out['spans'].shape == (2, 5, 2) and out['scores'].shape == (2, 5)
    top = out['spans'][:, 0]
    assert torch.all(top[:, 0] <= top[:, 1]) and torch.all(top[:, 1] < torch.tensor([7, 10]))
    torch.testing.assert_close(out['start_prob'].sum(-1), torch.ones(2))
    assert torch.all(out['end_prob'][0, 7:] == 0)
    samples = [GroundingDataSample(metainfo=dict(duration=14.0)),
               GroundingDataSample(metainfo=dict(duration=20.0))]
    preds = model(inputs, samples, mode='predict')
    assert preds[0].pred_moments.shape[1] == 2
    assert torch.all(preds[0].pred_moments <= 14.0) and preds[0].start_prob.shape == (7, )


def test_max_span_len_limits_predictions():
    model = _model(max_span_len=2).eval()
    spans = model.predict_spans(_inputs())['spans']
    assert torch.all(spans[..., 1] - spans[..., 0] <= 1)


def test_more_padding_never_changes_a_prediction():
    model = _model().eval()
    inputs = _inputs()
    padded = dict(
        video=torch.cat([inputs['video'], 25 * torch.randn(2, 6, 10)], 1),
        video_mask=F.pad(inputs['video_mask'], (0, 6)),
        words=F.pad(inputs['words'], (0, 3)), word_mask=F.pad(inputs['word_mask'], (0, 3)),
        chars=F.pad(inputs['chars'], (0, 4, 0, 3)))
    padded['video'][0, 7:10] = -9.0
    base, more = model.head_outputs(inputs), model.head_outputs(padded)
    valid = inputs['video_mask'] > 0
    for key in ('start_logits', 'end_logits'):
        torch.testing.assert_close(more[key][:, :10][valid], base[key][valid])
    base_pred, more_pred = model.predict_spans(inputs), model.predict_spans(padded)
    assert torch.equal(base_pred['spans'][:, 0], more_pred['spans'][:, 0])
    torch.testing.assert_close(more_pred['start_prob'][:, :10], base_pred['start_prob'])


def test_teacher_outputs_contract():
    model = _model().eval()
    inputs = _inputs()
    out = model.teacher_outputs(inputs)
    assert out['kind'] == 'span'
    assert out['start_logits'].shape == out['end_logits'].shape == (2, 10)
    assert out['valid_len'].dtype == torch.long and out['valid_len'].tolist() == [7, 10]
    assert not out['start_logits'].requires_grad
    torch.testing.assert_close(out['start_logits'], model.head_outputs(inputs)['start_logits'])


def test_student_variant_without_dual_attention():
    model = _model(attention=dict(type='DualAttentionEncoder', num_layers=0))
    assert len(model.dual_attention.blocks) == 0
    losses = model(dict(_inputs(), targets=_targets()), mode='loss')
    assert torch.isfinite(sum(losses.values()))


def test_demo_config_builds_the_model():
    cfg = Config.fromfile(str(REPO / 'configs' / 'teachers' / 'seqpan_tacos_demo.py'))
    assert cfg.model.vocab == cfg.glove and cfg.model.max_vlen == cfg.max_vlen == 64
    assert cfg.param_scheduler[-1].end == cfg.train_cfg.max_epochs
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    assert isinstance(model, SeqPANGrounder)
    assert model.data_preprocessor.max_vlen == 64  # stated once on the model, filled in
    assert model.encoder.query_embedding.char_cnn.embedding.embedding_dim == 50
    assert len(model.dual_attention.blocks) == 2


def test_unset_vocabulary_or_length_is_reported():
    with pytest.raises(ValueError, match='needs `vocab`'):
        SeqPANGrounder(None, max_vlen=16)
    with pytest.raises(ValueError, match='and `max_vlen`'):
        SeqPANGrounder(str(REPO / 'demo' / 'data' / 'tacos_subset' / 'glove'), max_vlen=None)
