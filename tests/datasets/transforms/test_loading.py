"""LoadTeacherCurves: curves of each teacher moved to the query's clips, with checks."""
import json
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.registry import DefaultScope

import mmemtm  # noqa: F401
from mmemtm.datasets import GroundingDataset
from mmemtm.datasets.curve_file import (TeacherCurveEntry, TeacherCurveError,
                                                 save_teacher_curves)

QUERIES = [('vid_a#0', 'vid_a', 'a person opens a door'), ('vid_b#0', 'vid_b', 'someone cuts')]


@pytest.fixture
def teacher_files(tmp_path):
    span = str(tmp_path / 'span.npz')
    save_teacher_curves(span, [
        TeacherCurveEntry(*QUERIES[0], np.array([[0., 1., 2.], [4., 2., 0.]])),
        TeacherCurveEntry(*QUERIES[1], np.array([[1., 1.], [0., 1.]])),
    ], teacher='SeqPAN', kind='span')
    props = str(tmp_path / 'props.npz')
    save_teacher_curves(props, [
        TeacherCurveEntry(*QUERIES[0], np.array([[7.], [8.]])),
        TeacherCurveEntry(*QUERIES[1], np.array([[0., 0., 3.], [3., 0., 0.]])),
    ], teacher='BAN', kind='proposals')
    return span, props


def results(query=0, v_len=5, num_clips=None):
    qid, vid, sentence = QUERIES[query]
    return dict(query_id=qid, video_id=vid, sentence=sentence, v_len=v_len,
                num_clips=v_len if num_clips is None else num_clips)


def test_curves_of_every_teacher_rebinned_to_v_len_then_normalised(teacher_files):
    transform = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=list(teacher_files),
                                      resample='boundary'))
    out = transform(results(0, 5))['teacher_curves']
    assert out.shape == (2, 2, 5) and out.dtype == np.float32
    # 3 -> 5 clips: starts land in clips 0, 1, 3, ends in 1, 3, 4; each row then sums to 1.
    np.testing.assert_allclose(out[0], [[0., 1 / 3, 0., 2 / 3, 0.], [0., 2 / 3, 0., 1 / 3, 0.]])
    np.testing.assert_allclose(out[1], [[1., 0., 0., 0., 0.], [0., 0., 0., 0., 1.]])
    out = transform(results(1, 3))['teacher_curves']
    np.testing.assert_allclose(out[0], [[.5, .5, 0.], [0., 0., 1.]])
    np.testing.assert_allclose(out[1], [[0., 0., 1.], [1., 0., 0.]])
    reference = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=list(teacher_files),
                                      resample='linear', normalize=None))
    np.testing.assert_allclose(reference(results(0, 5))['teacher_curves'][0],
                               [[0., .5, 1., 1.5, 2.], [4., 3., 2., 1., 0.]])


def test_coarse_grid_curves_cover_their_cells_instead_of_a_comb(tmp_path):
    # A 16-cell map teacher that picks cells 5 (start) and 9 (end), and one with mass everywhere,
    # on a 64-clip student grid: each cell's mass is shared by its 4 clips (boundary rebinning put
    # it on the cell's first or last clip and left 48 of 64 clips exactly 0).
    path = str(tmp_path / 'map.npz')
    sharp = np.zeros((2, 16), np.float32)
    sharp[0, 5] = sharp[1, 9] = 1.0
    blurry = np.random.default_rng(0).random((2, 16)).astype(np.float32) + 0.1
    save_teacher_curves(path, [TeacherCurveEntry(*QUERIES[0], sharp),
                               TeacherCurveEntry(*QUERIES[1], blurry)],
                        teacher='2D-TAN', kind='map2d')
    transform = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[path]))
    out = transform(results(0, 64))['teacher_curves'][0]
    expected = np.zeros((2, 64))
    expected[0, 20:24] = expected[1, 36:40] = 0.25
    np.testing.assert_allclose(out, expected, atol=1e-7)
    out = transform(results(1, 64))['teacher_curves'][0]
    assert (out > 0.01 / 64).all()
    np.testing.assert_allclose(out.reshape(2, 16, 4).sum(-1),
                               blurry / blurry.sum(-1, keepdims=True), rtol=1e-5)


def test_aggregator_files_give_the_aggregator_curves_of_the_same_slots(teacher_files):
    span, props = teacher_files
    transform = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[span, props],
                                      aggregator_files=[props, span]))
    out = transform(results(0, 5))
    np.testing.assert_allclose(out['aggregator_curves'], out['teacher_curves'][::-1])
    assert 'aggregator_curves' not in TRANSFORMS.build(dict(
        type='LoadTeacherCurves', files=[span]))(results(0, 5))
    with pytest.raises(ValueError, match='one file per teacher slot: 1 for 2'):
        TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[span, props],
                              aggregator_files=[span]))


def test_teachers_on_other_grids_weigh_the_same_on_the_student_grid(tmp_path):
    # A curve normalised on a 16-cell teacher grid and interpolated to 64 clips summed to ~4.
    path = str(tmp_path / 'map.npz')
    curve = np.random.default_rng(0).random((2, 16)).astype(np.float32)
    save_teacher_curves(path, [TeacherCurveEntry(*QUERIES[0], curve / curve.sum(-1, keepdims=True))],
                        teacher='2D-TAN', kind='map2d')
    out = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[path]))(results(0, 64))
    np.testing.assert_allclose(out['teacher_curves'].sum(-1), np.ones((1, 2)), rtol=1e-5)


def test_missing_query_and_mismatches_name_query_and_file(teacher_files, tmp_path):
    span = teacher_files[0]
    transform = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[span]))
    with pytest.raises(TeacherCurveError, match=f"{span}: no curves for query 'vid_c#0'"):
        transform(dict(results(), query_id='vid_c#0', video_id='vid_c'))
    with pytest.raises(TeacherCurveError,
                       match=f"{span}: the curves stored for query 'vid_a#0' belong to another "
                       "query \\(sentence 'a person opens a door' != 'a dog barks'\\)"):
        transform(dict(results(), sentence='a dog barks'))
    with pytest.raises(TeacherCurveError, match="query 'vid_a#0'.*video 'vid_a' != 'vid_z'"):
        transform(dict(results(), video_id='vid_z'))
    lenient = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[span],
                                    check_sentence=False))
    assert lenient(dict(results(), sentence='a dog barks'))['teacher_curves'].shape == (1, 2, 5)
    with pytest.raises(TeacherCurveError, match='does not exist'):
        TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[str(tmp_path / 'x.npz')]))(
            results())
    no_v_len = results()
    del no_v_len['v_len']
    with pytest.raises(KeyError, match="query 'vid_a#0': put it after DownsampleClips"):
        transform(no_v_len)
    with pytest.raises(ValueError, match='non-empty list'):
        TRANSFORMS.build(dict(type='LoadTeacherCurves', files=span))
    with pytest.raises(ValueError, match='needs "path"'):
        TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[dict(file=span)]))


def test_reference_list_file_through_the_transform(tmp_path):
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([['vid_a', 30.0, [1.0, 5.0], 'a person opens a door'],
                               ['vid_b', 20.0, [2.0, 8.0], 'someone cuts']]))
    ref = tmp_path / 'ref.pkl'
    with open(ref, 'wb') as f:
        pickle.dump([('vid_a', torch.tensor([[0., 2.], [2., 0.]])),
                     ('vid_b', torch.ones(2, 4))], f)
    transform = TRANSFORMS.build(dict(
        type='LoadTeacherCurves', files=[dict(path=str(ref), ann_file=str(ann))],
        resample='linear', normalize=None))
    np.testing.assert_allclose(transform(results(0, 3))['teacher_curves'][0],
                               [[0., 1., 2.], [2., 1., 0.]])


def test_a_reference_list_needing_full_unpickling_loads_only_when_trusted(tmp_path):
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([['vid_a', 30.0, [1.0, 5.0], 'a person opens a door']]))
    ref = tmp_path / 'masked.pkl'  # a masked array: outside the data allowlist, but harmless
    with open(ref, 'wb') as f:
        pickle.dump([('vid_a', np.ma.masked_array([[1., 2., 3.], [3., 2., 1.]]))], f)
    spec = dict(path=str(ref), ann_file=str(ann))
    refused = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[spec], normalize=None))
    with pytest.raises(TeacherCurveError, match=r'masked\.pkl: refusing to unpickle numpy\.ma'):
        refused(results(0, 3, num_clips=3))
    trusted = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=[dict(spec, trust=True)],
                                    normalize=None))
    np.testing.assert_allclose(trusted(results(0, 3, num_clips=3))['teacher_curves'][0],
                               [[1., 2., 3.], [3., 2., 1.]])


def test_reference_curves_are_cropped_to_the_clips_the_teacher_saw(tmp_path):
    # The reference stores [2, max_vlen] curves: a video of 3 clips has 5 padded positions whose
    # values must not be stretched into the video.
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([['vid_a', 30.0, [1.0, 5.0], 'a person opens a door']]))
    ref = tmp_path / 'ref.pkl'
    padded = torch.tensor([[1., 2., 3., 9., 9., 9., 9., 9.], [3., 2., 1., 9., 9., 9., 9., 9.]])
    with open(ref, 'wb') as f:
        pickle.dump([('vid_a', padded)], f)
    transform = TRANSFORMS.build(dict(
        type='LoadTeacherCurves', files=[dict(path=str(ref), ann_file=str(ann))],
        normalize=None))
    np.testing.assert_allclose(transform(results(0, 3, num_clips=3))['teacher_curves'][0],
                               padded[:, :3].numpy())
    no_count = results(0, 3)
    del no_count['num_clips']
    with pytest.raises(TeacherCurveError, match="clip count num_clips of query 'vid_a#0'"):
        transform(no_count)


def test_pipeline_to_batch(tmp_path, teacher_files):
    """Dataset -> LoadTeacherCurves -> PackGroundingInputs -> preprocessor: [B, N, 2, L]."""
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([['vid_a', 30.0, [1.0, 5.0], 'a person opens a door'],
                               ['vid_b', 20.0, [2.0, 8.0], 'someone cuts']]))
    feats = tmp_path / 'feats'
    feats.mkdir()
    np.save(feats / 'vid_a.npy', np.ones((6, 4), np.float32))
    np.save(feats / 'vid_b.npy', np.ones((3, 4), np.float32))
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = GroundingDataset(str(ann), data_prefix=dict(features=str(feats)), pipeline=[
            dict(type='LoadClipFeatures', feature_dim=4),
            dict(type='DownsampleClips', max_vlen=4),
            dict(type='LoadTeacherCurves', files=list(teacher_files)),
            dict(type='PackGroundingInputs'),
        ])
    batch = [dict(inputs=dict(x['inputs'], words=torch.ones(2, dtype=torch.long),
                              chars=torch.ones(2, 4, dtype=torch.long)),
                  data_samples=x['data_samples']) for x in (dataset[0], dataset[1])]
    preprocessor = MODELS.build(dict(type='GroundingDataPreprocessor', max_vlen=4))
    inputs = preprocessor(dict(inputs=[b['inputs'] for b in batch],
                               data_samples=[b['data_samples'] for b in batch]))['inputs']
    curves = inputs['teacher_curves']
    assert curves.shape == (2, 2, 2, 4)
    assert 'aggregator_curves' not in inputs
    # 3 span positions spread over 4 clips: [0, 1, 2] / 3 -> [0, 1/6, 1/3, 1/2] (sum 1)
    assert torch.allclose(curves[0, 0, 0], torch.tensor([0., 1 / 6, 1 / 3, 1 / 2]))
    assert torch.allclose(curves[1, 1], torch.tensor([[0., 0., 1., 0.], [1., 0., 0., 0.]]))
