"""Local-global distillation: the teacher is frozen and loaded from its checkpoint, the student
reads one stream, and the local and global terms train the student alone."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS

import mmemtm  # noqa: F401  (registers the models)
from mmemtm.models.grounders import StreamMismatchError
from mmemtm.structures import GroundingDataSample

GLOVE = str(Path(__file__).resolve().parents[3] / 'demo' / 'data' / 'tacos_subset' / 'glove')
DIM = 8
STUDENT = dict(video_dim=DIM, hidden_dim=16, num_proposals=5, num_heads=2, max_vlen=16,
               max_words=16, topk=3, dropout=0.0)
TEACHER = dict(type='CrossModalMutualTeacher',
               branches=[dict(type='WeakGaussianGrounder', **STUDENT)] * 2)


@pytest.fixture
def teacher_checkpoint(tmp_path):
    torch.manual_seed(1)
    model = MODELS.build(dict(TEACHER, vocab=GLOVE, input_streams=('appearance', 'motion')))
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path), model.state_dict()


def distiller(checkpoint, **kwargs):
    torch.manual_seed(0)
    args = dict(type='LocalGlobalDistiller', vocab=GLOVE, teacher=TEACHER,
                teacher_checkpoint=checkpoint, teacher_streams=('appearance', 'motion'),
                input_streams=('appearance', ), **STUDENT)
    args.update(kwargs)
    model = MODELS.build(args)
    model.init_weights()
    return model


@pytest.fixture
def batch(make_inputs):
    return make_inputs([9, 16, 5], [4, 2, 6], dim=2 * DIM)


def test_the_teacher_comes_from_its_checkpoint_and_stays_frozen(teacher_checkpoint, batch):
    path, weights = teacher_checkpoint
    model = distiller(path).train()
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, weights[key])
    assert not model.teacher.training and model.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    losses = model.loss(batch, None)
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0).step()
    assert all(torch.equal(v, before[k]) for k, v in model.teacher.state_dict().items())


def test_training_without_a_teacher_checkpoint_is_refused():
    with pytest.raises(ValueError, match='teacher_checkpoint'):
        distiller(None)


def test_the_student_gets_its_stream_only(teacher_checkpoint, batch, monkeypatch):
    model = distiller(teacher_checkpoint[0])
    seen = []
    original = type(model).outputs

    def spy(self, inputs, *args, **kwargs):
        seen.append(inputs['video'])
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(type(model), 'outputs', spy)
    model.loss(batch, None)
    assert len(seen) == 1 and seen[0].shape[-1] == DIM
    assert torch.equal(seen[0], batch['video'][..., :DIM])  # appearance: the first stream
    motion_student = distiller(teacher_checkpoint[0], input_streams=('motion', ))
    assert torch.equal(motion_student.student_inputs(batch)['video'], batch['video'][..., DIM:])


def test_prediction_takes_the_student_stream_alone(teacher_checkpoint, batch):
    model = distiller(teacher_checkpoint[0]).eval()
    one_stream = dict(batch, video=batch['video'][..., :DIM])
    with torch.no_grad():
        out = model.predict_spans(one_stream)
    assert out['spans'].shape == (3, 3, 2)
    sample = GroundingDataSample()
    sample.set_metainfo(dict(query_id='v#0', duration=5.0, streams=('appearance', 'motion')))
    with pytest.raises(StreamMismatchError, match='appearance'):
        model(one_stream, [sample] * 3, mode='predict')
    with pytest.raises(ValueError, match='size 8'):
        model.predict_spans(batch)


@pytest.mark.parametrize('term', ['loss_local', 'loss_global'])
def test_each_distillation_term_trains_the_student(teacher_checkpoint, batch, term):
    model = distiller(teacher_checkpoint[0])
    value = model.loss(batch, None)[term]
    assert torch.isfinite(value) and value > 0
    student = [p for n, p in model.named_parameters() if not n.startswith('teacher.')]
    gradients = torch.autograd.grad(value, student, allow_unused=True)
    assert sum(g.abs().sum() for g in gradients if g is not None) > 0


def test_a_term_set_to_none_is_not_computed(teacher_checkpoint, batch):
    losses = distiller(teacher_checkpoint[0], loss_local=None).loss(batch, None)
    assert set(losses) == {'loss_rec', 'loss_ivc', 'loss_global'}
    with pytest.raises(ValueError, match='one of the teacher streams'):
        distiller(teacher_checkpoint[0], input_streams=('depth', ))
