"""LoadTeacherCurves: curves of each teacher resampled to the query's clips, with checks."""
import json
import pickle

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.registry import DefaultScope

import mmemtm  # noqa: F401
from mmemtm.datasets import GroundingDataset
from mmemtm.datasets.teacher_curves_file import (TeacherCurveEntry, TeacherCurveError,
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


def results(query=0, v_len=5):
    qid, vid, sentence = QUERIES[query]
    return dict(query_id=qid, video_id=vid, sentence=sentence, v_len=v_len)


def test_curves_of_every_teacher_resampled_to_v_len(teacher_files):
    transform = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=list(teacher_files)))
    out = transform(results(0, 5))['teacher_curves']
    assert out.shape == (2, 2, 5) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], [[0., .5, 1., 1.5, 2.], [4., 3., 2., 1., 0.]])
    np.testing.assert_allclose(out[1], [[7.] * 5, [8.] * 5])
    out = transform(results(1, 3))['teacher_curves']
    np.testing.assert_allclose(out[0], [[1., 1., 1.], [0., .5, 1.]])
    np.testing.assert_allclose(out[1], [[0., 0., 3.], [3., 0., 0.]])


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
        type='LoadTeacherCurves', files=[dict(path=str(ref), ann_file=str(ann))]))
    np.testing.assert_allclose(transform(results(0, 3))['teacher_curves'][0],
                               [[0., 1., 2.], [2., 1., 0.]])


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
    assert torch.allclose(curves[0, 0, 0], torch.tensor([0., 2 / 3, 4 / 3, 2.]))
    assert torch.allclose(curves[1, 1], torch.tensor([[0., 0., 3., 0.], [3., 0., 0., 0.]]))
