"""Teacher curve files: mmemtm's .npz format and the EMTM reference's list format."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.datasets.curve_file import (FORMAT_NAME, TeacherCurveEntry,
                                                 TeacherCurveError, TeacherCurveFile,
                                                 annotation_records, open_teacher_curves,
                                                 save_teacher_curves)

RECORDS = [
    ['vid_a', 30.0, [1.0, 5.0], 'a person opens a door'],
    ['vid_b', 20.0, [2.0, 8.0], 'someone cuts a carrot'],
    ['vid_a', 30.0, [10.0, 20.0], ' the person sits down '],
]


@pytest.fixture
def ann_file(tmp_path):
    path = tmp_path / 'train.json'
    path.write_text(json.dumps(RECORDS))
    return str(path)


def entries(lengths=(4, 1, 7)):
    rng = np.random.default_rng(0)
    ids = [('vid_a#0', 'vid_a', 'a person opens a door'), ('vid_b#0', 'vid_b', 'someone cuts'),
           ('vid_a#1', 'vid_a', 'the person sits down')]
    return [TeacherCurveEntry(q, v, s, rng.random((2, n)).astype(np.float32))
            for (q, v, s), n in zip(ids, lengths)]


def test_round_trip_random_access(tmp_path):
    path = str(tmp_path / 'teacher.npz')
    written = entries()
    assert save_teacher_curves(path, written, teacher='SeqPAN', kind='span',
                               extra_meta=dict(split='train')) == 3
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
    curves = TeacherCurveFile(path)
    assert (curves.teacher, curves.kind, curves.source_format) == ('SeqPAN', 'span', 'mmemtm')
    assert curves.meta['format'] == FORMAT_NAME and curves.meta['split'] == 'train'
    assert len(curves) == 3 and 'vid_b#0' in curves and 'vid_b#1' not in curves
    for entry in reversed(written):
        got = curves.entry(entry.query_id)
        assert got[:3] == entry[:3]
        np.testing.assert_array_equal(got.curves, entry.curves)
    assert [e.query_id for e in curves.entries()] == ['vid_a#0', 'vid_b#0', 'vid_a#1']
    with pytest.raises(TeacherCurveError, match="no curves for query 'vid_c#0'.*SeqPAN"):
        curves.entry('vid_c#0')


def test_converter_meta_of_files_written_before_the_rename(tmp_path):
    """Files of earlier versions store the converter as ``head``: it is read as ``converter``."""
    old, new = str(tmp_path / 'old.npz'), str(tmp_path / 'new.npz')
    save_teacher_curves(old, entries(), 'SeqPAN', 'span', extra_meta=dict(head='SpanConv()'))
    save_teacher_curves(new, entries(), 'SeqPAN', 'span', extra_meta=dict(converter='SpanConv()'))
    for path in (old, new):
        meta = TeacherCurveFile(path).meta
        assert meta['converter'] == 'SpanConv()' and 'head' not in meta


def test_writer_rejects_bad_entries_and_keeps_old_file(tmp_path):
    path = str(tmp_path / 'teacher.npz')
    save_teacher_curves(path, entries(), teacher='t', kind='span')
    before = open(path, 'rb').read()
    dup = entries() + [entries()[0]]
    with pytest.raises(TeacherCurveError, match="query 'vid_a#0': the query appears twice"):
        save_teacher_curves(path, dup, teacher='t', kind='span')
    bad = entries()
    bad[1] = bad[1]._replace(curves=np.zeros((3, 5)))
    with pytest.raises(TeacherCurveError, match=r"query 'vid_b#0': curves must be \[2, L\]"):
        save_teacher_curves(path, bad, teacher='t', kind='span')
    bad[1] = bad[1]._replace(curves=np.full((2, 5), np.nan))
    with pytest.raises(TeacherCurveError, match='NaN'):
        save_teacher_curves(path, bad, teacher='t', kind='span')

    def failing():
        yield entries()[0]
        raise RuntimeError('teacher crashed')

    with pytest.raises(RuntimeError):
        save_teacher_curves(path, failing(), teacher='t', kind='span')
    assert open(path, 'rb').read() == before


def test_reader_rejects_foreign_npz(tmp_path):
    path = str(tmp_path / 'other.npz')
    np.savez(path, curves=np.zeros((2, 3)))
    with pytest.raises(TeacherCurveError, match="not a mmemtm-teacher-curves file.*'meta'"):
        TeacherCurveFile(path)
    with pytest.raises(TeacherCurveError, match='does not exist'):
        TeacherCurveFile(str(tmp_path / 'missing.npz'))


def write_reference(path, items):
    with open(path, 'wb') as f:
        pickle.dump(items, f)


def test_reference_list_format_aligned_to_annotation_order(tmp_path, ann_file):
    path = str(tmp_path / 'tacos_SeqPAN_train_logits.pkl')
    tensors = [torch.rand(2, 5), torch.rand(2, 3), torch.rand(2, 5)]
    write_reference(path, [('vid_a', tensors[0]), ('vid_b', tensors[1].numpy()),
                           ('vid_a', tensors[2])])
    curves = TeacherCurveFile(path, ann_file=ann_file)
    assert (curves.teacher, curves.source_format) == ('tacos_SeqPAN_train_logits', 'reference')
    assert curves.query_ids == ['vid_a#0', 'vid_b#0', 'vid_a#1']
    entry = curves.entry('vid_a#1')
    assert (entry.video_id, entry.sentence) == ('vid_a', 'the person sits down')
    np.testing.assert_allclose(entry.curves, tensors[2].numpy())
    np.testing.assert_allclose(curves.entry('vid_b#0').curves, tensors[1].numpy())


def test_reference_list_format_errors(tmp_path, ann_file):
    path = str(tmp_path / 'ref.pkl')
    write_reference(path, [('vid_a', torch.rand(2, 5)), ('vid_a', torch.rand(2, 3)),
                           ('vid_a', torch.rand(2, 5))])
    with pytest.raises(TeacherCurveError,
                       match="element 1: video id 'vid_a' does not match record 1 of .*train.json"
                       r" \(expected 'vid_b', query vid_b#0\)"):
        TeacherCurveFile(path, ann_file=ann_file)
    with pytest.raises(TeacherCurveError, match='needs the annotation file'):
        TeacherCurveFile(path)
    write_reference(path, [('vid_a', torch.rand(2, 5))])
    with pytest.raises(TeacherCurveError, match='1 elements, but .* has 3 records'):
        TeacherCurveFile(path, ann_file=ann_file)
    write_reference(path, [('vid_a', torch.rand(5, 2)), ('vid_b', torch.rand(2, 3)),
                           ('vid_a', torch.rand(2, 5))])
    with pytest.raises(TeacherCurveError,
                       match=r'element 0 \(query vid_a#0\): curves must be \[2, L\]'):
        TeacherCurveFile(path, ann_file=ann_file)


def test_reference_list_that_runs_code_is_refused(tmp_path, ann_file, payload):
    path = str(tmp_path / 'ref.pkl')
    write_reference(path, [('vid_a', torch.rand(2, 5)), ('vid_b', payload),
                           ('vid_a', torch.rand(2, 5))])
    with pytest.raises(TeacherCurveError, match=r'ref\.pkl: refusing to unpickle '
                       r'(posix|nt)\.system: .*use trust=True'):
        TeacherCurveFile(path, ann_file=ann_file)
    with pytest.raises(TeacherCurveError, match='refusing to unpickle'):
        open_teacher_curves(path, ann_file=ann_file)  # as LoadTeacherCurves opens it
    assert not payload.marker.exists()


def test_trusted_reference_list_may_hold_other_objects(tmp_path, ann_file):
    path = str(tmp_path / 'ref.pkl')
    params = [torch.nn.Parameter(torch.rand(2, n)) for n in (5, 3, 5)]
    write_reference(path, list(zip(['vid_a', 'vid_b', 'vid_a'], params)))
    with pytest.raises(TeacherCurveError, match=r'refusing to unpickle '
                       r'torch\._utils\._rebuild_parameter'):
        TeacherCurveFile(path, ann_file=ann_file)
    curves = TeacherCurveFile(path, ann_file=ann_file, trust=True)
    np.testing.assert_allclose(curves.entry('vid_b#0').curves, params[1].detach().numpy())


def test_annotation_records_keep_invalid_records_in_place(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps([RECORDS[0], ['vid_a', 30.0, [9.0, 2.0], 'backwards'],
                                RECORDS[2]]))
    assert [r[0] for r in annotation_records(str(path))] == ['vid_a#0', 'vid_a#1', 'vid_a#2']


def test_open_teacher_curves_caches_until_the_file_changes(tmp_path):
    path = str(tmp_path / 'teacher.npz')
    save_teacher_curves(path, entries(), teacher='first', kind='span')
    first = open_teacher_curves(path)
    assert open_teacher_curves(path) is first
    save_teacher_curves(path, entries((2, 2, 2)), teacher='second', kind='map2d')
    os.utime(path, ns=(1, 1))  # a distinct stamp even on coarse file-system clocks
    assert open_teacher_curves(path).teacher == 'second'
