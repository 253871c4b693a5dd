"""The weakly-supervised Gaussian-proposal grounder: it trains without timestamps (and refuses
them), its proposals and scores are well formed, padding does not change them, and it exports to
ONNX like the other proposal grounders."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS

import mmemtm  # noqa: F401  (registers the models)
from mmemtm.deployment import export_onnx
from mmemtm.deployment.runtime import OnnxRuntimeGrounder
from mmemtm.models.grounders import (StreamMismatchError, TimestampLeakError,
                                     WeakGaussianGrounder, WeakOutputs, proposal_moments)
from mmemtm.structures import GroundingDataSample

GLOVE = str(Path(__file__).resolve().parents[3] / 'demo' / 'data' / 'tacos_subset' / 'glove')
DIM = 12


def tiny(**kwargs) -> WeakGaussianGrounder:
    torch.manual_seed(0)
    args = dict(type='WeakGaussianGrounder', vocab=GLOVE, video_dim=DIM, hidden_dim=16,
                num_proposals=6, num_heads=2, max_vlen=16, max_words=16, topk=3,
                data_preprocessor=dict(type='GroundingDataPreprocessor'))
    args.update(kwargs)
    return MODELS.build(args)


def sample(query_id: str = 'v#0', **fields) -> GroundingDataSample:
    s = GroundingDataSample()
    s.set_metainfo(dict(query_id=query_id, duration=10.0, **fields))
    return s


@pytest.fixture
def batch(make_inputs):
    return make_inputs([9, 16, 5], [4, 2, 6], dim=DIM)


def test_trains_from_pairs_alone_and_every_loss_term_reaches_the_proposals(batch):
    model = tiny()
    losses = model(batch, [sample('a'), sample('b'), sample('c')], mode='loss')
    assert set(losses) == {'loss_rec', 'loss_ivc'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    # the proposals learn through the Gaussian weights of the reconstruction
    assert model.proposal_head[2].weight.grad.abs().sum() > 0
    assert model.word_out.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('leak', ['targets', 'gt_time', 'gt_span'])
def test_a_timestamp_derived_target_in_a_training_batch_is_refused(batch, leak):
    model = tiny()
    samples = [sample('a'), sample('b'), sample('c')]
    if leak == 'targets':
        batch = dict(batch, targets=dict(gt_span=torch.zeros(3, 2, dtype=torch.long)))
    elif leak == 'gt_time':
        samples[1] = sample('b', gt_time=[1.0, 2.0])
    else:
        samples[1].gt_span = torch.tensor([1, 2])
    with pytest.raises(TimestampLeakError, match='b' if leak != 'targets' else 'targets'):
        model(batch, samples, mode='loss')


def test_a_batch_of_other_streams_is_refused_naming_the_query(batch):
    model = tiny(input_streams=('appearance', ))
    samples = [sample('a', streams=('appearance', )), sample('b', streams=('motion', )),
               sample('c', streams=('appearance', ))]
    with pytest.raises(StreamMismatchError, match=r"'b'.*motion"):
        model(batch, samples, mode='loss')
    with pytest.raises(StreamMismatchError):
        model.eval()(batch, samples, mode='predict')


def test_proposals_are_moments_of_the_video_and_scores_rank_them(batch):
    model = tiny().eval()
    with torch.no_grad():
        moments, scores = model.scored_proposals(batch)
        out = model.predict_spans(batch)
    assert moments.shape == (3, 6, 2) and scores.shape == (3, 6)
    assert (moments >= 0).all() and (moments <= 1).all()
    assert (moments[..., 0] <= moments[..., 1]).all()
    assert torch.allclose(scores.sum(1), torch.ones(3), atol=1e-5)
    v_len = batch['video_mask'].sum(1).long()
    assert (out['spans'][..., 1] < v_len[:, None]).all()
    assert (out['spans'][..., 0] <= out['spans'][..., 1]).all()
    assert (out['scores'][:, :-1] >= out['scores'][:, 1:]).all()


def test_padding_changes_nothing_in_eval_mode(batch, pad_inputs):
    model = tiny(max_vlen=32).eval()
    with torch.no_grad():
        plain = model.scored_proposals(batch)
        padded = model.scored_proposals(pad_inputs(batch, extra_clips=5, extra_words=3))
    for a, b in zip(plain, padded):
        assert torch.allclose(a, b, atol=1e-5)


def test_training_reconstructs_only_the_masked_words_with_the_same_losses(batch):
    model = tiny(dropout=0.0)
    masked = model.word_masks(batch['word_mask'])
    train = model.train().outputs(batch, masked)
    full = model.eval().outputs(batch, masked)
    for a, b in zip(train, full):
        assert torch.allclose(a, b, atol=1e-5)


def test_widths_keep_their_floor(batch):
    model = tiny(min_width=0.3).eval()
    with torch.no_grad():
        _, widths = model.proposals(torch.randn(3, 16, 16) * 100, batch['video_mask'])
    assert (widths >= 0.3).all() and (widths <= 1).all()
    with pytest.raises(ValueError, match='min_width'):
        tiny(min_width=1.0)


def test_activation_map_is_a_distribution_over_the_valid_clips(batch):
    model = tiny().eval()
    with torch.no_grad():
        out = model.outputs(batch, negatives=False)
        act = model.activation_map(out, batch['video_mask'])
    assert torch.allclose(act.sum(1), torch.ones(3), atol=1e-5)
    assert (act[batch['video_mask'] == 0] == 0).all()


def test_vote_ranking_prefers_the_proposal_the_others_agree_with():
    model = tiny(rank_by='vote')
    centres = torch.tensor([[0.3, 0.32, 0.34, 0.9, 0.31, 0.33]])
    none = torch.zeros(1, 0)
    out = WeakOutputs(centres, torch.full_like(centres, 0.1), torch.zeros_like(centres), none,
                      none, torch.zeros(1, 6, 4))
    scores = model.proposal_scores(out)
    assert scores[0, 3] < scores[0, [0, 1, 2, 4, 5]].min()
    assert torch.allclose(proposal_moments(centres, torch.full_like(centres, 0.1))[0, 3],
                          torch.tensor([0.85, 0.95]))


def test_exports_to_onnx_and_the_runtime_ranks_the_same_moments(tmp_path, batch):
    model = tiny().eval()
    out = str(tmp_path / 'weak.onnx')
    report = export_onnx(model, out, length=16)
    assert report.max_abs_diff <= 1e-4 and len(report.cases) >= 3
    runtime = OnnxRuntimeGrounder(out, num_threads=1)
    batch = dict(batch, chars=torch.zeros(*batch['words'].shape, 4, dtype=torch.long))
    assert runtime.spec.kind == 'proposals' and runtime.spec.model_type == 'WeakGaussianGrounder'
    with torch.no_grad():
        expected = model.predict_spans(batch)
    got = runtime.predict_spans(batch)
    assert torch.equal(got['spans'], expected['spans'])
    assert torch.allclose(got['scores'], expected['scores'], atol=1e-4)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='rank_by'):
        tiny(rank_by='best')
    with pytest.raises(ValueError, match='topk'):
        tiny(topk=9)
    with pytest.raises(ValueError, match='max_vlen'):
        tiny().eval().predict_spans(dict(video=torch.zeros(1, 17, DIM),
                                         video_mask=torch.ones(1, 17),
                                         words=torch.ones(1, 2, dtype=torch.long),
                                         word_mask=torch.ones(1, 2)))
    with pytest.raises(ValueError, match='size 12'):
        tiny().eval().predict_spans(dict(video=torch.zeros(1, 4, 5), video_mask=torch.ones(1, 4),
                                         words=torch.ones(1, 2, dtype=torch.long),
                                         word_mask=torch.ones(1, 2)))
