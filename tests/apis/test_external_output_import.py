"""Bring-your-own teacher outputs in every accepted layout
(mmemtm.apis.external_output_import)."""
import json
import math
import pickle

import numpy as np
import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.apis.external_output_import import import_teacher_outputs
from mmemtm.datasets.curve_file import TeacherCurveError, TeacherCurveFile

RECORDS = [
    ['vid_a', 30.0, [1.0, 5.0], 'a person opens a door'],
    ['vid_b', 20.0, [2.0, 8.0], 'someone cuts a carrot'],
    ['vid_a', 30.0, [10.0, 20.0], 'the person sits down'],
]
IDS = ['vid_a#0', 'vid_b#0', 'vid_a#1']


@pytest.fixture
def ann(tmp_path):
    path = tmp_path / 'train.json'
    path.write_text(json.dumps(RECORDS))
    return str(path)


def run(source, kind, ann, out, **options):
    import_teacher_outputs(str(source), kind, ann, str(out), 'T', **options)
    return TeacherCurveFile(str(out))


def test_map2d_list_in_annotation_order(tmp_path, ann):
    maps = [np.array([[1., 2., 9.], [0., 3., 9.], [9., 9., 9.]]), np.eye(2), np.ones((4, 4))]
    source = tmp_path / 'maps.pkl'
    with open(source, 'wb') as f:
        pickle.dump([dict(score_map=maps[0], valid_len=2), dict(score_map=torch.eye(2)),
                     dict(score_map=maps[2])], f)
    with pytest.raises(TeacherCurveError, match="entry 1: map2d outputs without valid_len"):
        run(source, 'map2d', ann, tmp_path / 'refused.npz')
    assert not (tmp_path / 'refused.npz').exists()
    curves = run(source, 'map2d', ann, tmp_path / 'out.npz', unpadded=True)
    assert curves.kind == 'map2d' and curves.query_ids == IDS
    first = curves.entry('vid_a#0')
    assert first.sentence == 'a person opens a door'
    # valid 2x2 block [[1, 2], [., 3]]: rows max [2, 3], columns max [1, 3], summing to 1
    np.testing.assert_allclose(first.curves, [[2 / 5, 3 / 5], [1 / 4, 3 / 4]], rtol=1e-6)
    np.testing.assert_allclose(curves.entry('vid_b#0').curves, np.full((2, 2), 0.5))
    assert curves.entry('vid_a#1').curves.shape == (2, 4)


def test_proposals_json_by_video_and_index_and_bare_rows(tmp_path, ann):
    source = tmp_path / 'props.json'
    source.write_text(json.dumps([
        dict(video_id='vid_b', ann_index=0, proposals=[[0.3125, 0.6875]], scores=[1.0]),
        dict(video_id='vid_a', ann_index=1, proposals=[[0.0, 1.0], [0.5, 0.5]],
             scores=[0.5, 0.0]),
        dict(video_id='vid_a', ann_index=0, proposals=[[0.1, 0.2]], scores=[1.0]),
    ]))
    curves = run(source, 'proposals', ann, tmp_path / 'out.npz', grid_len=8,
                 converter=json.loads('{"type": "ProposalCurveConverter", "normalize": null}'))
    entry = curves.entry('vid_b#0')
    assert entry.curves.shape == (2, 8)
    assert entry.curves[0].argmax() == 2 and entry.curves[1].argmax() == 5
    assert math.isclose(entry.curves[0, 2], 1.0, rel_tol=1e-6)
    assert math.isclose(entry.curves[0, 3], math.exp(-3.125), rel_tol=1e-5)
    # mapping {query_id: [K, 3] rows} gives the same curves
    bare = tmp_path / 'bare.pkl'
    with open(bare, 'wb') as f:
        pickle.dump({'vid_b#0': np.array([[0.3125, 0.6875, 1.0]]),
                     'vid_a#0': np.array([[0.1, 0.2, 1.0]]),
                     'vid_a#1': np.array([[0.0, 1.0, 0.5]])}, f)
    again = run(bare, 'proposals', ann, tmp_path / 'bare_out.npz', grid_len=8,
                converter=json.loads('{"type": "ProposalCurveConverter", "normalize": null}'))
    for qid in IDS:
        np.testing.assert_allclose(again.entry(qid).curves, curves.entry(qid).curves)
    assert curves.meta['converter'].startswith('ProposalCurveConverter')
    # the converter's old keyword still works, with a deprecation warning
    with pytest.warns(DeprecationWarning, match='head= was renamed converter='):
        old = run(source, 'proposals', ann, tmp_path / 'old.npz', grid_len=8,
                  head=dict(type='ProposalCurveConverter', normalize=None))
    np.testing.assert_allclose(old.entry('vid_b#0').curves, curves.entry('vid_b#0').curves)
    with pytest.raises(TypeError, match='not also as head='):
        run(source, 'proposals', ann, tmp_path / 'x.npz', grid_len=8,
            converter=dict(type='ProposalCurveConverter'), head=dict(type='ProposalCurveConverter'))
    with pytest.raises(ValueError, match='needs grid_len'):
        run(source, 'proposals', ann, tmp_path / 'x.npz')


def test_reference_pairs_become_a_curve_file(tmp_path, ann):
    source = tmp_path / 'tacos_BAN_train.pkl'
    ref = [('vid_a', torch.rand(2, 5)), ('vid_b', torch.rand(2, 3)), ('vid_a', torch.rand(2, 5))]
    with open(source, 'wb') as f:
        pickle.dump(ref, f)
    curves = run(source, 'curves', ann, tmp_path / 'out.npz')
    assert curves.kind == 'curves'
    for qid, (_, tensor) in zip(IDS, ref):
        np.testing.assert_allclose(curves.entry(qid).curves, tensor.numpy())


def test_a_pickle_that_runs_code_is_refused(tmp_path, ann, payload):
    source = tmp_path / 'evil.pkl'
    source.write_bytes(pickle.dumps([dict(curves=payload)] * 3))
    with pytest.raises(TeacherCurveError, match=r'evil\.pkl: refusing to unpickle '
                       r'(posix|nt)\.system: .*use --trust-pickle'):
        run(source, 'curves', ann, tmp_path / 'out.npz')
    assert not payload.marker.exists() and not (tmp_path / 'out.npz').exists()


def test_trust_pickle_accepts_other_objects(tmp_path, ann):
    source = tmp_path / 'params.pkl'
    params = [torch.nn.Parameter(torch.rand(2, n)) for n in (5, 3, 5)]
    source.write_bytes(pickle.dumps([dict(curves=p) for p in params]))
    with pytest.raises(TeacherCurveError, match=r'torch\._utils\._rebuild_parameter'):
        run(source, 'curves', ann, tmp_path / 'out.npz')
    curves = run(source, 'curves', ann, tmp_path / 'out.npz', trust_pickle=True)
    np.testing.assert_allclose(curves.entry('vid_b#0').curves, params[1].detach().numpy())


def test_errors_name_the_entry(tmp_path, ann):
    out = tmp_path / 'out.npz'
    source = tmp_path / 'bad.json'
    source.write_text(json.dumps({'vid_a#0': dict(logits=[[1, 2, 3]]),
                                  'vid_b#0': dict(logits=[[1, 2], [3, 4]]),
                                  'vid_a#1': dict(logits=[[1, 2], [3, 4]])}))
    with pytest.raises(TeacherCurveError, match=r"entry 'vid_a#0': logits must be \[2, L\]"):
        run(source, 'span', ann, out)
    source.write_text(json.dumps({'vid_a#0': dict(logits=[[1, 2], [3, 4]]),
                                  'vid_a#7': dict(logits=[[1, 2], [3, 4]])}))
    with pytest.raises(TeacherCurveError, match=r"entry 'vid_a#7': query 'vid_a#7' is not in"):
        run(source, 'span', ann, out)
    source.write_text(json.dumps({'vid_a#0': dict(logits=[[1, 2], [3, 4]], valid_len=3)}))
    with pytest.raises(TeacherCurveError, match=r"entry 'vid_a#0': valid_len 3 is outside"):
        run(source, 'span', ann, out, allow_partial=True)
    one = tmp_path / 'one.json'
    one.write_text(json.dumps({'vid_a#0': dict(logits=[[1, 2], [3, 4]])}))
    with pytest.raises(TeacherCurveError, match=r"2 queries of .* have no outputs, e.g. "
                       r"\['vid_a#1', 'vid_b#0'\]"):
        run(one, 'span', ann, out)
    partial = run(one, 'span', ann, out, allow_partial=True, unpadded=True)
    assert partial.query_ids == ['vid_a#0']
    source.write_text(json.dumps([dict(start_logits=[1, 2], end_logits=[1, 2])] * 2))
    with pytest.raises(TeacherCurveError, match='2 unkeyed entries, but .* has 3 records'):
        run(source, 'span', ann, out)
    source.write_text(json.dumps([dict(video_id='vid_b', logits=[[1], [2]])] * 3))
    with pytest.raises(TeacherCurveError, match=r"entry 0: video id 'vid_b' does not match "
                       r"query vid_a#0 .* \(expected 'vid_a'\)"):
        run(source, 'span', ann, out)
    npz = tmp_path / 'table.npz'
    np.savez(npz, query_id=np.array(IDS), logits=np.zeros((2, 2, 4)))
    with pytest.raises(TeacherCurveError, match='columns have different numbers of queries'):
        run(npz, 'span', ann, out)
    np.savez(npz, score_map=np.zeros((3, 4, 4)))
    with pytest.raises(TeacherCurveError, match=r"unexpected columns \['score_map'\]"):
        run(npz, 'span', ann, out)
    source.write_text(json.dumps([dict(query_id='vid_a#0', logits=[[1], [2]]),
                                  dict(video_id='vid_b', ann_index=0, logits=[[1], [2]])]))
    with pytest.raises(TeacherCurveError, match='entry 1: keyed by video_id \\+ ann_index, but '
                       'the first entry is keyed by query_id'):
        run(source, 'span', ann, out)
    source.write_text(json.dumps({'vid_a#0': dict(proposals=[[3., 10.]], scores=[1.])}))
    with pytest.raises(TeacherCurveError, match="entry 'vid_a#0': ProposalCurveConverter: "
                       r'sample 0 has proposals outside \[0, 1\]'):
        run(source, 'proposals', ann, out, grid_len=8, allow_partial=True)
    assert not out.exists() or TeacherCurveFile(str(out)).query_ids == ['vid_a#0']
