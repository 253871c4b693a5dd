"""The two-modality teacher: one branch per stream, mutual learning in which each branch learns
from the other (and only from it), and its fused knowledge."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS

import mmemtm  # noqa: F401  (registers the models)
from mmemtm.models.losses import MapDivergenceLoss

GLOVE = str(Path(__file__).resolve().parents[3] / 'demo' / 'data' / 'tacos_subset' / 'glove')
DIM = 8
BRANCH = dict(type='WeakGaussianGrounder', video_dim=DIM, hidden_dim=16, num_proposals=5,
              num_heads=2, max_vlen=16, max_words=16, topk=3, dropout=0.0)


def teacher(**kwargs):
    torch.manual_seed(0)
    args = dict(type='CrossModalMutualTeacher', vocab=GLOVE, branches=[BRANCH, BRANCH],
                input_streams=('appearance', 'motion'), topk=3)
    args.update(kwargs)
    return MODELS.build(args)


@pytest.fixture
def batch(make_inputs):
    return make_inputs([9, 16, 5], [4, 2, 6], dim=2 * DIM)


def grads(model, loss, params):
    return torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)


def flat(gradients):
    return torch.cat([g.flatten() for g in gradients if g is not None])


def test_each_branch_reads_its_stream_and_the_branches_get_their_names(batch):
    model = teacher()
    assert [b.input_streams for b in model.branches] == [('appearance', ), ('motion', )]
    parts = model.branch_inputs(batch)
    assert torch.equal(parts[0]['video'], batch['video'][..., :DIM])
    assert torch.equal(parts[1]['video'], batch['video'][..., DIM:])
    with pytest.raises(ValueError, match='16 features'):
        model.branch_inputs(dict(batch, video=batch['video'][..., :DIM]))


def test_each_branch_learns_from_the_other_and_only_through_its_own_map(batch):
    """The mutual term moves both branches; branch 1's gradient is that of pulling ITS map
    towards branch 0's (detached): it gets nothing through being branch 0's target."""
    model = teacher().eval()  # fixed masked words, no dropout: the passes below are the same
    losses = model.loss(batch, None)
    mutual = losses['loss_mutual']
    b0, b1 = (list(b.parameters()) for b in model.branches)
    g0, g1 = flat(grads(model, mutual, b0)), flat(grads(model, mutual, b1))
    assert g0.abs().sum() > 0 and g1.abs().sum() > 0
    outs = model.branch_outputs(batch)
    maps = model.activation_maps(outs, batch['video_mask'])
    own_term = MapDivergenceLoss()(maps[1], maps[0].detach(), batch['video_mask'])
    expected = flat(grads(model, own_term, b1))
    assert torch.allclose(g1, expected, atol=1e-6, rtol=1e-4)


def test_without_mutual_learning_the_branches_train_apart(batch):
    model = teacher(loss_mutual=None)
    losses = model.loss(batch, None)
    assert 'loss_mutual' not in losses
    assert set(losses) == {'loss_b0_rec', 'loss_b0_ivc', 'loss_b1_rec', 'loss_b1_ivc'}
    branch0_loss = losses['loss_b0_rec'] + losses['loss_b0_ivc']
    g1 = grads(model, branch0_loss, list(model.branches[1].parameters()))
    assert all(g is None or g.abs().sum() == 0 for g in g1)


def test_knowledge_is_the_fused_proposals_and_the_averaged_map(batch):
    model = teacher().eval()
    known = model.knowledge(batch)
    assert known['moments'].shape == (3, 10, 2) and known['scores'].shape == (3, 10)
    assert torch.allclose(known['scores'].sum(1), torch.ones(3), atol=1e-5)
    assert torch.allclose(known['activation'].sum(1), torch.ones(3), atol=1e-5)
    assert (known['activation'][batch['video_mask'] == 0] == 0).all()
    assert not known['scores'].requires_grad


def test_a_branch_alone_predicts_as_that_grounder_on_its_stream(batch):
    model = teacher(predict_with='branch1').eval()
    with torch.no_grad():
        alone = model.predict_spans(batch)
        direct = model.branches[1].predict_spans(model.branch_inputs(batch)[1])
    assert torch.equal(alone['spans'], direct['spans'])
    assert torch.allclose(alone['scores'], direct['scores'])
    with pytest.raises(ValueError, match='predict_with'):
        teacher(predict_with='branch2')
    with pytest.raises(ValueError, match='one branch per input stream'):
        teacher(input_streams=('appearance', ))
