"""Nested part configs: old flat configs fail with what changed, and checkpoints of the flat
constructors load unchanged.

``tests/data/checkpoints/*_flat_constructor.pth`` were written by the code of the last commits
with flat constructors (3e73756 for ``EMTM``/``SeqPANGrounder``, 62ac948 for
``TAN2DGrounder``/``SCDMGrounder``): a tiny model's state dict (without the frozen GloVe table,
which comes from the vocabulary file), a batch, and the spans, teacher outputs and losses that
model gave on it. Outputs and losses are compared at float32 tolerance
(:data:`FLOAT32`): the files were written on another CPU, whose BLAS kernels sum in another
order (an SCDM teacher output differs by 1.1e-6 on an AVX2 machine at the same code).

Ranked outputs (spans and their scores, SCDM's proposals) are recomputed in float64
(:func:`in_float64`): which of two candidates whose scores lie within float32 rounding comes first
depends on that rounding (2D-TAN's nearest top-20 scores here are 2e-5 apart, relative), while
float64 ranks them as exact arithmetic does, and so did the CPU that wrote the files.
"""
import copy
from pathlib import Path

import pytest
import torch

from mmemtm.compat import load_local_checkpoint
from mmemtm.models import EMTM, SCDMGrounder, SeqPANGrounder, TAN2DGrounder
from mmemtm.structures import GroundingDataSample

DATA = Path(__file__).parents[2] / 'data' / 'checkpoints'
#: ``torch.testing`` tolerance of float32 values recomputed on another CPU (its defaults).
FLOAT32 = dict(rtol=1.3e-6, atol=1e-5)
WORDS = 'encoder.query_embedding.word_table.weight'
TINY = dict(vocab='demo/data/tacos_subset/glove', max_vlen=12, video_dim=8, dim=16,
            num_heads=2, drop_rate=0.0, encoder=dict(type='QueryVideoEncoder', char_dim=8))
NEW = {
    'emtm_flat_constructor.pth': lambda: EMTM(
        **TINY, cotrained=dict(attention=dict(type='DualAttentionEncoder', num_layers=2)),
        num_teachers=3, aggregator=dict(type='KnowledgeAggregationUnit')),
    'seqpan_flat_constructor.pth': lambda: SeqPANGrounder(**TINY),
}
GRID = dict(vocab=TINY['vocab'], video_dim=8, hidden_dim=8, dropout=0.0)
NEW_GRID_TEACHERS = {
    'tan2d_flat_constructor.pth': lambda: TAN2DGrounder(
        **GRID, num_cells=8, num_dense=4,
        sentence_encoder=dict(type='GloveRNNSentenceEncoder', num_layers=2, rnn_type='gru'),
        map_convs=dict(type='TemporalMapConvStack', num_layers=2, kernel_size=3),
        loss_iou=dict(type='ScaledIoULoss', iou_min=0.3, iou_max=0.7)),
    'scdm_flat_constructor.pth': lambda: SCDMGrounder(
        **GRID, num_cells=16, num_levels=3, attn_dim=8,
        loss_reg=dict(type='AnchorRegressionLoss', pos_iou=0.4, loss_weight=2.0)),
}


def in_float64(model, inputs: dict) -> tuple:
    """A float64 copy of ``model`` and ``inputs`` (the files hold float32 tensors)."""
    return copy.deepcopy(model).double(), {
        k: v.double() if torch.is_tensor(v) and v.is_floating_point() else v
        for k, v in inputs.items()}


@pytest.mark.parametrize('name', sorted(NEW))
def test_a_checkpoint_of_the_flat_constructor_loads_and_predicts_the_same(name):
    old = load_local_checkpoint(str(DATA / name))
    model = NEW[name]()
    state = dict(old['state_dict'], **{WORDS: model.state_dict()[WORDS]})
    model.load_state_dict(state, strict=True)
    model.eval()
    double, inputs = in_float64(model, old['inputs'])
    with torch.no_grad():
        out = double.predict_spans(inputs)
    assert torch.equal(out['spans'], old['outputs']['spans'])
    torch.testing.assert_close(out['scores'], old['outputs']['scores'], check_dtype=False,
                               **FLOAT32)
    model.train()
    torch.manual_seed(3)
    losses = model.loss(old['inputs'], None)
    assert set(losses) == set(old['losses'])
    for key, value in old['losses'].items():
        torch.testing.assert_close(losses[key].detach(), value, **FLOAT32)


@pytest.mark.parametrize('name', sorted(NEW_GRID_TEACHERS))
def test_a_grid_teacher_checkpoint_of_the_flat_constructor_loads_and_acts_the_same(name):
    old = load_local_checkpoint(str(DATA / name))
    model = NEW_GRID_TEACHERS[name]()
    model.load_state_dict(old['state_dict'], strict=True)
    model.eval()
    inputs = old['inputs']
    double, inputs64 = in_float64(model, inputs)
    with torch.no_grad():
        out = double.predict_spans(inputs64)
        teacher = double.teacher_outputs(inputs64)
    assert torch.equal(out['spans'], old['outputs']['spans'])
    torch.testing.assert_close(out['scores'], old['outputs']['scores'], check_dtype=False,
                               **FLOAT32)
    for key, value in old['teacher_outputs'].items():
        torch.testing.assert_close(teacher[key], value, check_dtype=False, **FLOAT32)
    model.train()
    torch.manual_seed(3)
    losses = model.loss(inputs, [GroundingDataSample(metainfo=m) for m in old['meta']])
    assert set(losses) == set(old['losses'])
    for key, value in old['losses'].items():
        torch.testing.assert_close(losses[key].detach(), value, **FLOAT32)


@pytest.mark.parametrize('cls, old, where', [
    (EMTM, dict(char_dim=8), 'encoder.char_dim'),
    (EMTM, dict(kd_weight=0.1, kd_mode='standard'), 'loss_kd.loss_weight'),
    (EMTM, dict(cotrained_attn_layers=None), 'cotrained=None'),
    (SeqPANGrounder, dict(num_attn_layers=1), 'attention.num_layers'),
    (TAN2DGrounder, dict(map_layers=4, iou_min=0.5), 'map_convs.num_layers'),
    (SCDMGrounder, dict(reg_weight=2.0), 'loss_reg.loss_weight'),
])
def test_a_flat_config_says_where_its_arguments_went(cls, old, where):
    args = TINY if cls in (EMTM, SeqPANGrounder) else dict(GRID, num_cells=16, num_levels=3)
    with pytest.raises(TypeError, match=r'moved into the nested part configs') as error:
        cls(**dict(args, **old))
    assert where in str(error.value)
    assert all(key in str(error.value) for key in old)
