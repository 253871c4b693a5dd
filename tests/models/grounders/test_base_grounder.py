"""The teacher-output contract declared on BaseGrounder, checked on every registered teacher."""
from pathlib import Path
from typing import Dict

import pytest
import torch
from mmaction.registry import MODELS

import mmemtm  # noqa: F401  (registers the models)
from mmemtm.models.grounders.base_grounder import (TEACHER_OUTPUT_KEYS, BaseGrounder,
                                                   check_teacher_outputs)
from mmemtm.models.converters.output_to_curves import CONVERTER_OF_KIND, build_curve_converter

GLOVE = str(Path(__file__).resolve().parents[3] / 'demo' / 'data' / 'tacos_subset' / 'glove')
V_LENS, N_WORDS, LENGTH, DIM = (7, 16, 3), (4, 2, 6), 16, 16
TINY_ENCODER = dict(type='QueryVideoEncoder', char_dim=4, char_filters=(2, 2, 2, 2))

#: Tiny versions of every registered grounder that implements ``teacher_outputs``, and the kind
#: each must return. A new teacher added to the registry must be added here.
TINY_TEACHERS = {
    'SeqPANGrounder': ('span', dict(
        vocab=GLOVE, max_vlen=LENGTH, video_dim=DIM, dim=8, num_heads=2, encoder=TINY_ENCODER,
        attention=dict(type='DualAttentionEncoder', num_layers=1))),
    'TAN2DGrounder': ('map2d', dict(
        vocab=GLOVE, video_dim=DIM, hidden_dim=8, num_cells=8,
        map_convs=dict(type='TemporalMapConvStack', num_layers=1, kernel_size=3))),
    'SCDMGrounder': ('proposals', dict(
        vocab=GLOVE, video_dim=DIM, hidden_dim=8, num_cells=16, num_levels=3, attn_dim=8,
        teacher_topk=6)),
    'SpanPriorGrounder': ('span', dict(num_bins=4)),
    'EMTM': ('span', dict(
        vocab=GLOVE, max_vlen=LENGTH, video_dim=DIM, dim=8, num_heads=2, encoder=TINY_ENCODER,
        num_teachers=0, cotrained=None)),
}


def tiny_batch() -> Dict[str, torch.Tensor]:
    """A padded batch of three queries (7, 16 and 3 valid clips of a 16-clip grid)."""
    gen = torch.Generator().manual_seed(0)
    video_mask = (torch.arange(LENGTH)[None] < torch.tensor(V_LENS)[:, None]).float()
    word_mask = (torch.arange(max(N_WORDS))[None] < torch.tensor(N_WORDS)[:, None]).float()
    words = torch.randint(2, 50, (len(V_LENS), max(N_WORDS)), generator=gen)
    chars = torch.randint(1, 30, (*words.shape, 5), generator=gen)
    return dict(video=torch.randn(len(V_LENS), LENGTH, DIM, generator=gen) * video_mask[..., None],
                video_mask=video_mask, words=words * word_mask.long(), word_mask=word_mask,
                chars=chars * word_mask[..., None].long())


def registered_teachers():
    """Names of the registered grounders that override ``BaseGrounder.teacher_outputs``."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, BaseGrounder)
                  and cls.teacher_outputs is not BaseGrounder.teacher_outputs)


def test_every_registered_teacher_has_a_contract_test():
    teachers = registered_teachers()
    assert {'SeqPANGrounder', 'TAN2DGrounder', 'SCDMGrounder'} <= set(teachers)
    assert set(teachers) <= set(TINY_TEACHERS), 'add the new teacher to TINY_TEACHERS'


@pytest.mark.parametrize('name', sorted(TINY_TEACHERS))
def test_teacher_outputs_satisfy_the_contract(name):
    kind, cfg = TINY_TEACHERS[name]
    torch.manual_seed(0)
    model = MODELS.build(dict(type=name, **cfg)).eval()
    inputs = tiny_batch()
    out = model.teacher_outputs(inputs)

    assert out['kind'] == kind
    assert check_teacher_outputs(out, batch_size=len(V_LENS)) == kind
    assert set(out) == {'kind', *TEACHER_OUTPUT_KEYS[kind]}
    assert not any(t.requires_grad for k, t in out.items() if k != 'kind')
    if kind == 'span':
        assert out['start_logits'].shape == out['end_logits'].shape == (len(V_LENS), LENGTH)
        assert out['valid_len'].dtype == torch.long
        assert out['valid_len'].tolist() == list(V_LENS)
    elif kind == 'map2d':
        cells = cfg['num_cells']
        assert out['score_map'].shape == (len(V_LENS), cells, cells)
        assert out['valid_len'].dtype == torch.long
        assert out['valid_len'].tolist() == [min(v, cells) for v in V_LENS]
    else:
        assert out['proposals'].shape == (len(V_LENS), cfg['teacher_topk'], 2)
        assert out['scores'].shape == (len(V_LENS), cfg['teacher_topk'])

    # the unified head of the kind accepts them as they are
    grid = inputs['video_mask'].sum(1).long()
    curves = build_curve_converter(kind).curves_on_teacher_grid(out, grid)
    expected = out['valid_len'].tolist() if 'valid_len' in out else grid.tolist()
    assert [tuple(c.shape) for c in curves] == [(2, n) for n in expected]
    assert all(torch.isfinite(c).all() for c in curves)


def test_contract_keys_are_those_the_unified_heads_read():
    assert set(CONVERTER_OF_KIND) == set(TEACHER_OUTPUT_KEYS)
    for kind, keys in TEACHER_OUTPUT_KEYS.items():
        assert tuple(build_curve_converter(kind).required_keys) == keys


class NotATeacher(BaseGrounder):

    def loss(self, inputs, data_samples):
        return {}

    def predict_spans(self, inputs):
        return {}


def test_base_grounder_declares_teacher_outputs_without_implementing_it():
    with pytest.raises(NotImplementedError, match='NotATeacher .*cannot act as a teacher'):
        NotATeacher().teacher_outputs(tiny_batch())


def span_outputs(**changes):
    out = dict(kind='span', start_logits=torch.zeros(2, 5), end_logits=torch.zeros(2, 5),
               valid_len=torch.tensor([5, 3]))
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize('outputs, message', [
    (span_outputs(kind='curves'), 'kind'),
    (span_outputs(valid_len=None), 'lack'),
    (span_outputs(end_logits=torch.zeros(2, 4)), 'start_logits'),
    (span_outputs(valid_len=torch.tensor([5.0, 3.0])), 'integer'),
    (span_outputs(valid_len=torch.tensor([6, 3])), r'\[1, 5\]'),
    (span_outputs(valid_len=torch.tensor([0, 3])), r'\[1, 5\]'),
    (dict(kind='map2d', score_map=torch.zeros(2, 4, 3), valid_len=torch.tensor([4, 4])),
     'score_map'),
    (dict(kind='proposals', proposals=torch.tensor([[[0.2, 1.5]]]), scores=torch.ones(1, 1)),
     'fractions'),
    (dict(kind='proposals', proposals=torch.tensor([[[0.6, 0.2]]]), scores=torch.ones(1, 1)),
     'start <= end'),
    (dict(kind='proposals', proposals=torch.tensor([[[0.2, 0.6]]]), scores=-torch.ones(1, 1)),
     'non-negative'),
])
def test_check_teacher_outputs_names_the_violation(outputs, message):
    with pytest.raises(ValueError, match=message):
        check_teacher_outputs(outputs)
    assert check_teacher_outputs(span_outputs()) == 'span'
    with pytest.raises(ValueError, match='expected 3'):
        check_teacher_outputs(span_outputs(), batch_size=3)
