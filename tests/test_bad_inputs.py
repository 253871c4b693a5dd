"""The catalogue of bad inputs (docs/errors.md): each one fails with a clear error that names the
culprit (file, record, key, query or video), and a tool that fails half-way loses nothing.

Every case below builds one bad input in ``tmp_path`` and returns the action that must fail; the
test checks the exception type and a regular expression naming the culprit. Case names are the
``test case`` column of docs/errors.md.
"""
import argparse
import json
import os
import pickle
import re
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
import torch

from mmaction.registry import TRANSFORMS
from mmemtm.apis import CheckpointMismatchError, init_grounder
from mmemtm.compat import CheckpointReadError, CheckpointTrustError, ConfigFileError
from mmemtm.datasets import (AnnotationError, FeatureError, GroundingDataset, HDF5FeatureStore,
                             NpyFeatureStore, TeacherCurveEntry, TeacherCurveError,
                             TeacherCurveFile, read_queries, save_teacher_curves)
from mmemtm.datasets.annotation_readers import UnsafeVideoIdError
from mmemtm.apis.feature_extraction import VideoReadError
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.models import EMTM, GroundingDataPreprocessor, SpanPriorGrounder
from mmemtm.models.encoders.query_embedding import QueryEmbedding
from mmemtm.text import VocabularyError, WordVocabulary, load_word_vocabulary
from mmemtm.utils import AtomicWriteError, UnsafeNameError, save_npy_atomic
from mmemtm.utils.config_options import ConfigOptionError, merge_cfg_options

REPO_ROOT = Path(__file__).resolve().parents[1]
GLOVE = str(REPO_ROOT / 'demo' / 'data' / 'tacos_subset' / 'glove')
STUDENT_CONFIG = str(REPO_ROOT / 'configs' / 'ablations' / 'student_only_tacos_demo.py')
TINY_MODEL = dict(model=dict(dim=32, num_heads=4, video_dim=8, encoder=dict(char_dim=8)))
DIM = 8
#: A valid JSON-list annotation file: video v1 (30 s) with two queries.
RECORDS = [['v1', 30.0, [2.0, 9.0], 'a man opens the door.'],
           ['v1', 30.0, [10.0, 20.5], 'he takes out a pan.']]

CASES: List = []


class RunsCode:
    """Unpickling it calls ``os.system`` (with a harmless command): a malicious file's payload."""

    def __reduce__(self):
        return os.system, ('true',)


def case(exc: type, pattern: str) -> Callable:
    """Register a bad-input case: ``build(tmp_path) -> action`` must raise ``exc`` matching
    ``pattern``."""
    def register(build: Callable) -> Callable:
        CASES.append(pytest.param(build, exc, pattern, id=build.__name__))
        return build
    return register


def write_json(path: Path, obj) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def write_features(tmp: Path, **videos: np.ndarray) -> str:
    folder = tmp / 'features'
    folder.mkdir(exist_ok=True)
    for vid, array in videos.items():
        np.save(folder / f'{vid}.npy', array)
    return str(folder)


def good_features(tmp: Path, clips: int = 15) -> str:
    return write_features(tmp, v1=np.ones((clips, DIM), np.float32))


def dataset(ann: str, features: str, pipeline=(), **kwargs) -> GroundingDataset:
    return GroundingDataset(ann, pipeline=list(pipeline), data_prefix=dict(features=features),
                            **kwargs)


def load_features(tmp: Path, features: str, video_id: str = 'v1') -> Callable:
    load = TRANSFORMS.build(dict(type='LoadClipFeatures', feature_dim=DIM))
    return lambda: load(dict(video_id=video_id, feature_path=features))


# --------------------------------------------------------------------------- annotations
@case(AnnotationError, r'missing\.json: annotation file does not exist')
def annotation_file_missing(tmp):
    return lambda: read_queries(str(tmp / 'missing.json'))


@case(AnnotationError, r'broken\.json: unreadable annotation file')
def annotation_file_malformed_json(tmp):
    (tmp / 'broken.json').write_text('[["v1", 30.0, [2.0, 9.0], "a man')
    return lambda: read_queries(str(tmp / 'broken.json'))


@case(AnnotationError, r'latin1\.json: unreadable annotation file .*utf-8')
def annotation_file_not_utf8(tmp):
    (tmp / 'latin1.json').write_bytes('[["v1", 30.0, [2.0, 9.0], "café"]]'.encode('latin-1'))
    return lambda: read_queries(str(tmp / 'latin1.json'))


@case(AnnotationError, r'ann\.json: top level: expected a JSON list of records')
def annotation_top_level_not_a_list(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', {'v1': RECORDS}))


@case(AnnotationError, r'ann\.json: record 1: expected \[video_id, duration, \[start, end\], '
      r'sentence\], got \[.v1., 30\.0, .he takes')
def annotation_record_malformed(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0], RECORDS[1][:2] +
                                                              RECORDS[1][3:]]))


@case(AnnotationError, r'ann\.json: record 1: timestamp must be \[start, end\], got 10\.0')
def annotation_timestamp_not_a_pair(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0],
                                                              ['v1', 30.0, 10.0, 'a']]))


@case(AnnotationError, r'ann\.json: record 1 \(video v1\): start 21\.0 s is not before end '
      r'10\.0 s')
def annotation_start_after_end(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0],
                                                              ['v1', 30.0, [21.0, 10.0], 'a']]))


@case(AnnotationError, r'ann\.json: record 1 \(video v1\): moment \[25\.0, 40\.0\] s is outside '
      r'the video \[0, 30\.0\] s')
def annotation_moment_outside_the_video(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0],
                                                              ['v1', 30.0, [25.0, 40.0], 'a']]))


@case(AnnotationError, r'ann\.json: record 0 \(video v1\): duration must be positive, got -3')
def annotation_negative_duration(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [['v1', -3, [1.0, 2.0], 'a']]))


@case(AnnotationError, r'ann\.json: record 0 \(video v1\): expected a number, got .nan.')
def annotation_time_not_a_number(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [['v1', 30, ['nan', 2.0], 'a']]))


@case(AnnotationError, r"ann\.json: record 1 \(video v1\): empty sentence '  '")
def annotation_empty_sentence(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0],
                                                              ['v1', 30.0, [1.0, 2.0], '  ']]))


@case(AnnotationError, r'ann\.json: record 0 \(video v1\): the sentence must be a string, got 7')
def annotation_sentence_not_a_string(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [['v1', 30.0, [1.0, 2.0], 7]]))


@case(AnnotationError, r'empty\.json: no valid query in the file')
def annotation_file_without_queries(tmp):
    return lambda: read_queries(write_json(tmp / 'empty.json', []))


@case(AnnotationError, r'charades\.txt: line 2: video BBB has no duration in .*durations\.json')
def charades_video_without_duration(tmp):
    (tmp / 'charades.txt').write_text('AAA 1.0 4.0##a person opens a door.\n'
                                      'BBB 2.0 5.0##a person sits down.\n')
    reader = dict(type='CharadesSTAReader',
                  duration_file=write_json(tmp / 'durations.json', {'AAA': 30.0}))
    return lambda: read_queries(str(tmp / 'charades.txt'), reader)


@case(AnnotationError, r"Charades_v1_train\.csv: line 3 \(video BBB\): length: expected a "
      r"number, got 'n/a'")
def charades_duration_csv_not_a_number(tmp):
    (tmp / 'charades.txt').write_text('AAA 1.0 4.0##a person opens a door.\n')
    (tmp / 'Charades_v1_train.csv').write_text('id,length\nAAA,30.1\nBBB,n/a\n')
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp / 'Charades_v1_train.csv'))
    return lambda: read_queries(str(tmp / 'charades.txt'), reader)


@case(AnnotationError, r'durations\.csv: a duration CSV needs "id" and "length" columns')
def charades_duration_csv_without_columns(tmp):
    (tmp / 'charades.txt').write_text('AAA 1.0 4.0##a person opens a door.\n')
    (tmp / 'durations.csv').write_text('video,seconds\nAAA,30.1\n')
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp / 'durations.csv'))
    return lambda: read_queries(str(tmp / 'charades.txt'), reader)


@case(AnnotationError, r'charades\.txt: line 2: expected "VID start end##sentence", got '
      r"'AAA 1\.0##no end'")
def charades_line_malformed(tmp):
    (tmp / 'charades.txt').write_text('AAA 1.0 4.0##a person opens a door.\nAAA 1.0##no end\n')
    reader = dict(type='CharadesSTAReader',
                  duration_file=write_json(tmp / 'durations.json', {'AAA': 30.0}))
    return lambda: read_queries(str(tmp / 'charades.txt'), reader)


@case(AnnotationError, r"anet\.json: video v_x: missing key 'duration'")
def activitynet_video_without_duration(tmp):
    ann = write_json(tmp / 'anet.json', {'v_x': dict(timestamps=[[1, 2]], sentences=['a'])})
    return lambda: read_queries(ann, dict(type='ActivityNetCaptionsReader'))


@case(AnnotationError, r'anet\.json: video v_x: "timestamps" and "sentences" must be lists of '
      r'the same length')
def activitynet_timestamps_and_sentences_differ(tmp):
    ann = write_json(tmp / 'anet.json', {'v_x': dict(duration=9.0, timestamps=[[1, 2], [3, 4]],
                                                     sentences=['a'])})
    return lambda: read_queries(ann, dict(type='ActivityNetCaptionsReader'))


@case(AnnotationError, r'tacos\.json: video s13-d21\.avi: fps must be positive, got 0\.0')
def tacos_2dtan_zero_fps(tmp):
    ann = write_json(tmp / 'tacos.json', {'s13-d21.avi': dict(
        timestamps=[[0, 60]], sentences=['a'], fps=0, num_frames=2939)})
    return lambda: read_queries(ann, dict(type='TACoS2DTANReader'))


@case(KeyError, r'NoSuchReader is not in the mmaction::task util registry')
def unknown_reader_type(tmp):
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: read_queries(ann, dict(type='NoSuchReader'))


# --------------------------------------------------------------------------- CSV sentences
def write_csv(tmp: Path, text: str) -> str:
    (tmp / 'sentences.csv').write_text(text, encoding='utf-8')
    return str(tmp / 'sentences.csv')


@case(AnnotationError, r'sentences\.csv: header: missing column\(s\) end \(the header has video, '
      r'start, stop, sentence; needed: video, start, end, sentence; optional: duration, split\)')
def csv_missing_column(tmp):
    return lambda: read_queries(write_csv(tmp, 'video,start,stop,sentence\nv1,1,2,a man.\n'))


@case(AnnotationError, r'sentences\.csv: line 3: 5 cells, but the header has 4 columns \(a '
      r"sentence that holds the delimiter ',' must be in double quotes\)")
def csv_sentence_with_an_unquoted_comma(tmp):
    return lambda: read_queries(write_csv(
        tmp, 'video,start,end,sentence\nv1,1,2,a man.\nv1,3,4,a man, a dog.\n'))


@case(AnnotationError, r"sentences\.csv: line 2 \(video v1\): expected a number, got '1,5'")
def csv_time_not_a_number(tmp):
    return lambda: read_queries(write_csv(
        tmp, 'video,start,end,sentence,duration\nv1,"1,5",2,a man.,30\n'))


@case(AnnotationError, r'sentences\.csv: line 2 \(video v1\): start 9\.0 s is not before end '
      r'2\.0 s')
def csv_start_after_end(tmp):
    return lambda: read_queries(write_csv(
        tmp, 'video,start,end,sentence,duration\nv1,9,2,a man.,30\n'))


@case(AnnotationError, r'sentences\.csv: line 2 \(video v9\): unknown video: no video file '
      r'v9\.<ext> in .*videos \(the durations are read from the videos')
def csv_unknown_video(tmp):
    (tmp / 'videos').mkdir()
    (tmp / 'videos' / 'v1.mp4').write_bytes(b'')
    return lambda: read_queries(write_csv(
        tmp, 'video,start,end,sentence\nv9,1,2,a dog.\nv1,1,2,a man.\n'))


@case(AnnotationError, r'sentences\.csv: line 2 \(video v1\): cannot read video .*v1\.mp4')
def csv_video_unreadable(tmp):
    (tmp / 'videos').mkdir()
    (tmp / 'videos' / 'v1.mp4').write_text('not a video')
    return lambda: read_queries(write_csv(tmp, 'video,start,end,sentence\nv1,1,2,a man.\n'))


@case(AnnotationError, r'sentences\.csv: header: no "duration" column, and the folder of the '
      r'videos to read the durations from, .*videos, does not exist')
def csv_without_durations_or_videos(tmp):
    return lambda: read_queries(write_csv(tmp, 'video,start,end,sentence\nv1,1,2,a man.\n'))


@case(AnnotationError, r"sentences\.csv: split column: no row of split 'val' \(the column holds "
      r"'test', 'train'\)")
def csv_split_without_rows(tmp):
    ann = write_csv(tmp, 'video,start,end,sentence,duration,split\n'
                    'v1,1,2,a man.,30,train\nv2,1,2,a dog.,30,test\n')
    return lambda: read_queries(ann, dict(type='CSVReader', split='val'))


# --------------------------------------------------------------------------- features
@case(FeatureError, r'feature folder .*no_features does not exist')
def feature_folder_missing(tmp):
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: dataset(ann, str(tmp / 'no_features'))


@case(FeatureError, r'1 video\(s\) have no features in .*features, e.g\. .*v2\.npy \(needed by '
      r'query v2#0\)')
def feature_file_missing(tmp):
    ann = write_json(tmp / 'ann.json', RECORDS + [['v2', 12.0, [1.0, 2.0], 'a dog barks']])
    return lambda: dataset(ann, good_features(tmp))


@case(FeatureError, r'features .*v1\.npy have dim 16, expected 8')
def feature_dim_mismatch(tmp):
    return load_features(tmp, write_features(tmp, v1=np.ones((15, 16), np.float32)))


@case(FeatureError, r'features .*v1\.npy contain NaN or inf')
def feature_values_nan(tmp):
    feats = np.ones((15, DIM), np.float32)
    feats[3, 2] = np.nan
    return load_features(tmp, write_features(tmp, v1=feats))


@case(FeatureError, r'features .*v1\.npy must be \[n_clips, dim\], got shape \(15,\)')
def feature_array_not_2d(tmp):
    return load_features(tmp, write_features(tmp, v1=np.ones(15, np.float32)))


@case(FeatureError, r'features .*v1\.npy must be \[n_clips, dim\], got shape \(0, 8\)')
def feature_array_without_clips(tmp):
    return load_features(tmp, write_features(tmp, v1=np.ones((0, DIM), np.float32)))


@case(FeatureError, r'cannot read features .*v1\.npy')
def feature_file_corrupt(tmp):
    folder = good_features(tmp)
    data = (Path(folder) / 'v1.npy').read_bytes()
    (Path(folder) / 'v1.npy').write_bytes(data[:len(data) // 2])
    return load_features(tmp, folder)


@case(FeatureError, r'feature_shapes\.json must map video ids to clip counts')
def feature_shapes_json_malformed(tmp):
    folder = good_features(tmp)
    write_json(Path(folder) / 'feature_shapes.json', [['v1', 15]])
    return lambda: NpyFeatureStore(folder)


@case(FeatureError, r'no features for video v9: .*feats\.h5\[v9\] does not exist')
def feature_hdf5_video_missing(tmp):
    h5py = pytest.importorskip('h5py')
    with h5py.File(tmp / 'feats.h5', 'w') as f:
        f['v1'] = np.ones((15, DIM), np.float32)
    return load_features(tmp, str(tmp / 'feats.h5'), video_id='v9')


@case(ValueError, r'holds planted features of another recipe \(.*planted_meta\.json\)')
def planted_folder_of_another_recipe(tmp):
    queries = read_queries(write_json(tmp / 'ann.json', RECORDS))[0]
    vocab = load_word_vocabulary(GLOVE)
    PlantedFeatureGenerator(vocab, dim=DIM, seed=0).generate(queries, str(tmp / 'planted'))
    other = PlantedFeatureGenerator(vocab, dim=DIM, seed=1)
    return lambda: other.generate(queries, str(tmp / 'planted'))


# --------------------------------------------------------------------------- vocabulary
@case(VocabularyError, r'vocabulary .*glove_missing does not exist: expected a GloVe subset '
      r'folder \(word2id\.json \+ embeds\.npy\) or a GloVe text file')
def vocabulary_path_missing(tmp):
    return lambda: load_word_vocabulary(str(tmp / 'glove_missing'))


def subset(tmp: Path, word2id, embeds=None) -> str:
    folder = tmp / 'glove'
    folder.mkdir()
    if word2id is not None:
        write_json(folder / 'word2id.json', word2id)
    np.save(folder / 'embeds.npy', np.ones((3, 4), np.float32) if embeds is None else embeds)
    return str(folder)


@case(VocabularyError, r'GloVe subset file .*glove/word2id\.json does not exist')
def vocabulary_word2id_missing(tmp):
    return lambda: WordVocabulary.from_subset(subset(tmp, None))


@case(VocabularyError, r"word2id\.json: word 'pan' points to row 7, but .*embeds\.npy has 3 rows")
def vocabulary_row_out_of_range(tmp):
    return lambda: WordVocabulary.from_subset(subset(tmp, {'door': 0, 'pan': 7}))


@case(VocabularyError, r"word2id\.json: word 'pan' points to row '1', but .*embeds\.npy")
def vocabulary_row_not_an_int(tmp):
    return lambda: WordVocabulary.from_subset(subset(tmp, {'door': 0, 'pan': '1'}))


@case(VocabularyError, r'cannot read .*glove/word2id\.json')
def vocabulary_word2id_malformed(tmp):
    folder = subset(tmp, {'door': 0})
    (Path(folder) / 'word2id.json').write_text('{"door": 0,')
    return lambda: WordVocabulary.from_subset(folder)


@case(VocabularyError, r'embeds\.npy must be numeric \[rows, dim\], got float32 \(3,\)')
def vocabulary_embeddings_not_2d(tmp):
    return lambda: WordVocabulary.from_subset(subset(tmp, {'door': 0}, np.ones(3, np.float32)))


@case(VocabularyError, r'embeds\.npy contains NaN or inf')
def vocabulary_embeddings_nan(tmp):
    embeds = np.ones((3, 4), np.float32)
    embeds[1, 1] = np.inf
    return lambda: WordVocabulary.from_subset(subset(tmp, {'door': 0}, embeds))


@case(VocabularyError, r'glove\.txt: line 2 is not `word v1 \.\.\. v3`')
def vocabulary_glove_text_bad_line(tmp):
    (tmp / 'glove.txt').write_text('door 0.1 0.2 0.3\npan 0.1 x 0.3\n')
    return lambda: WordVocabulary.from_glove_text(str(tmp / 'glove.txt'))


@case(ValueError, r'word id 40 outside the 5-word vocabulary built from .*small_glove: build '
      r'TokenizeQuery and the model from the same GloVe path')
def vocabulary_of_pipeline_and_model_differ(tmp):
    small = str(tmp / 'small_glove')
    WordVocabulary(['door', 'pan', 'man'], np.ones((3, 300), np.float32)).save(small)
    embedding = QueryEmbedding(small, dim=16, char_dim=8)
    return lambda: embedding.word_vectors(torch.tensor([[2, 40]]))


@case(ValueError, r"query v1#4: the sentence '' has no words")
def query_without_words(tmp):
    tokenize = TRANSFORMS.build(dict(type='TokenizeQuery', vocab=GLOVE))
    return lambda: tokenize(dict(sentence='', query_id='v1#4'))


# --------------------------------------------------------------------------- teacher curves
def curve_file(tmp: Path, curves=None, name: str = 'teacher.npz') -> str:
    path = str(tmp / name)
    entries = [TeacherCurveEntry('v1#0', 'v1', 'a man opens the door.',
                                 np.ones((2, 6), np.float32) if curves is None else curves)]
    save_teacher_curves(path, entries, 'T', 'span')
    return path


def load_curves(files, query_id='v1#0', video_id='v1', sentence='a man opens the door.'):
    load = TRANSFORMS.build(dict(type='LoadTeacherCurves', files=files))
    return lambda: load(dict(query_id=query_id, video_id=video_id, sentence=sentence, v_len=8))


@case(TeacherCurveError, r'teacher curve file .*absent\.npz does not exist')
def teacher_file_missing(tmp):
    return load_curves([str(tmp / 'absent.npz')])


@case(TeacherCurveError, r"teacher\.npz: no curves for query 'v1#1' \(teacher T, 1 queries\)")
def teacher_query_missing(tmp):
    return load_curves([curve_file(tmp)], query_id='v1#1')


@case(TeacherCurveError, r"teacher\.npz: the curves stored for query 'v1#0' belong to another "
      r"query \(sentence 'a man opens the door\.' != 'a man closes the door\.'\)")
def teacher_sentence_mismatch(tmp):
    return load_curves([curve_file(tmp)], sentence='a man closes the door.')


@case(TeacherCurveError, r"teacher\.npz: the curves stored for query 'v1#0' belong to another "
      r"query \(video 'v1' != 'v7'")
def teacher_video_mismatch(tmp):
    return load_curves([curve_file(tmp)], video_id='v7')


@case(TeacherCurveError, r"teacher\.npz: query 'v1#0': curves must be \[2, L\] with L >= 1 "
      r'\(start, end\), got shape \(3, 6\)')
def teacher_curves_wrong_shape(tmp):
    return lambda: curve_file(tmp, np.ones((3, 6), np.float32))


@case(TeacherCurveError, r"teacher\.npz: query 'v1#0': curves contain NaN or inf")
def teacher_curves_nan(tmp):
    return lambda: curve_file(tmp, np.full((2, 6), np.nan, np.float32))


@case(TeacherCurveError, r'teacher\.npz: inconsistent arrays \(1 query ids, 1 video ids, 1 '
      r'sentences, offsets \(2,\), curves \(2, 6\)\)')
def teacher_file_inconsistent_arrays(tmp):
    path = curve_file(tmp)
    with np.load(path) as data:
        arrays = dict(data)
    arrays['offsets'] = np.array([0, 4])
    np.savez(path, **arrays)
    return lambda: TeacherCurveFile(path)


@case(TeacherCurveError, r'other\.npz: not a mmemtm-teacher-curves file \(arrays \[.meta.')
def teacher_file_of_another_format(tmp):
    np.savez(tmp / 'other.npz', curves=np.ones((2, 6)))
    return lambda: TeacherCurveFile(str(tmp / 'other.npz'))


@case(TeacherCurveError, r'curves\.pkl is not an mmemtm teacher curve file \(\.npz\); reading '
      r'the EMTM reference list format needs the annotation file it follows \(ann_file=\.\.\.\)')
def teacher_reference_list_without_annotations(tmp):
    (tmp / 'curves.pkl').write_bytes(pickle.dumps([('v1', np.ones((2, 6)))]))
    return lambda: TeacherCurveFile(str(tmp / 'curves.pkl'))


@case(TeacherCurveError, r'curves\.pkl: refusing to unpickle (posix|nt)\.system: data pickles '
      r'may hold only numpy arrays, torch tensors and plain containers')
def teacher_reference_list_that_runs_code(tmp):
    (tmp / 'curves.pkl').write_bytes(pickle.dumps([('v1', RunsCode()), ('v1', np.ones((2, 6)))]))
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: TeacherCurveFile(str(tmp / 'curves.pkl'), ann_file=ann)


@case(TeacherCurveError, r'outputs\.pkl: refusing to unpickle (posix|nt)\.system: .*use '
      r'--trust-pickle')
def teacher_outputs_that_run_code(tmp):
    from mmemtm.apis.external_output_import import load_outputs
    (tmp / 'outputs.pkl').write_bytes(pickle.dumps({'v1#0': dict(logits=RunsCode())}))
    return lambda: load_outputs(str(tmp / 'outputs.pkl'))


@case(TeacherCurveError, r"curves\.pkl: element 1: video id 'v2' does not match record 1 of "
      r".*ann\.json \(expected 'v1', query v1#1\)")
def teacher_reference_list_out_of_order(tmp):
    (tmp / 'curves.pkl').write_bytes(pickle.dumps([('v1', np.ones((2, 6))),
                                                   ('v2', np.ones((2, 6)))]))
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: TeacherCurveFile(str(tmp / 'curves.pkl'), ann_file=ann)


@case(TeacherCurveError, r"curves\.pkl: curves in the reference list format are padded to the "
      r"teacher's max_vlen; cropping them needs the video's clip count num_clips of query "
      r"'v1#0'")
def teacher_reference_curves_without_clip_count(tmp):
    (tmp / 'curves.pkl').write_bytes(pickle.dumps([('v1', np.ones((2, 6))),
                                                   ('v1', np.ones((2, 6)))]))
    ann = write_json(tmp / 'ann.json', RECORDS[:2])
    load = TRANSFORMS.build(dict(type='LoadTeacherCurves',
                                 files=[dict(path=str(tmp / 'curves.pkl'), ann_file=ann)]))
    results = dict(query_id='v1#0', video_id='v1', sentence=RECORDS[0][3], v_len=6)
    return lambda: load(results)


@case(ValueError, r'the batch carries curves of 2 teachers, the model expects num_teachers=3 '
      r'\(one teacher per file of LoadTeacherCurves\)')
def teacher_count_differs_from_the_model(tmp):
    model = EMTM(vocab=GLOVE, max_vlen=8, video_dim=DIM, dim=16, num_heads=2,
                 encoder=dict(type='QueryVideoEncoder', char_dim=8), num_teachers=3,
                 aggregator=dict(type='AverageTeacherAggregator'))
    inputs = dict(teacher_curves=torch.rand(1, 2, 2, 8), video_mask=torch.ones(1, 8),
                  word_mask=torch.ones(1, 3))
    return lambda: model.teacher_mixture(inputs, torch.zeros(1, 8, 16), torch.zeros(1, 3, 16))


# --------------------------------------------------------------------------- checkpoints
def save_checkpoint(path: Path, model: torch.nn.Module) -> str:
    torch.save(dict(meta={}, state_dict=model.state_dict()), path)
    return str(path)


@case(FileNotFoundError, r'checkpoint .*nowhere\.pth does not exist')
def checkpoint_missing(tmp):
    return lambda: init_grounder(STUDENT_CONFIG, str(tmp / 'nowhere.pth'), cfg_options=TINY_MODEL)


@case(CheckpointReadError, r'checkpoint .*truncated\.pth is not a readable torch checkpoint')
def checkpoint_truncated(tmp):
    path = save_checkpoint(tmp / 'full.pth', SpanPriorGrounder(num_bins=8))
    (tmp / 'truncated.pth').write_bytes(Path(path).read_bytes()[:300])
    return lambda: init_grounder(STUDENT_CONFIG, str(tmp / 'truncated.pth'),
                                 cfg_options=TINY_MODEL)


@case(CheckpointTrustError, r'checkpoint .*evil\.pth was refused: it needs (posix|nt)\.system, '
      r'which is not among the globals mmemtm allows in checkpoints')
def checkpoint_that_runs_code(tmp):
    torch.save(dict(meta=RunsCode(), state_dict={}), tmp / 'evil.pth')
    return lambda: init_grounder(STUDENT_CONFIG, str(tmp / 'evil.pth'), cfg_options=TINY_MODEL)


@case(CheckpointTrustError, r'checkpoint .*namespace\.pth was refused: it needs '
      r'argparse\.Namespace, .* --trust-checkpoint')
def checkpoint_with_another_object(tmp):
    model = init_grounder(STUDENT_CONFIG, cfg_options=TINY_MODEL)
    torch.save(dict(meta=argparse.Namespace(), state_dict=model.state_dict()),
               tmp / 'namespace.pth')
    return lambda: init_grounder(STUDENT_CONFIG, str(tmp / 'namespace.pth'),
                                 cfg_options=TINY_MODEL)


@case(CheckpointMismatchError, r'checkpoint .*span_prior\.pth does not fit the EMTM of the '
      r'config: only 0 of its [0-9]+ weights are in it \([0-9]+ missing, e\.g\. encoder\.')
def checkpoint_of_another_model(tmp):
    path = save_checkpoint(tmp / 'span_prior.pth', SpanPriorGrounder(num_bins=8))
    return lambda: init_grounder(STUDENT_CONFIG, path, cfg_options=TINY_MODEL)


@case(CheckpointMismatchError, r'checkpoint .*dim16\.pth does not fit the EMTM of the config: '
      r'only [0-9]+ of its [0-9]+ weights are in it \([0-9]+ of another shape, e\.g\. '
      r'encoder\.\S+ \(16, [0-9]+\) \(model: \(32, [0-9]+\)\)')
def checkpoint_of_another_config(tmp):
    other = init_grounder(STUDENT_CONFIG, cfg_options=dict(model=dict(
        dim=16, num_heads=4, video_dim=8, encoder=dict(char_dim=8))))
    path = save_checkpoint(tmp / 'dim16.pth', other)
    return lambda: init_grounder(STUDENT_CONFIG, path, cfg_options=TINY_MODEL)


# --------------------------------------------------------------------------- configs
def emtm(**kwargs) -> Callable:
    cfg = dict(vocab=GLOVE, max_vlen=12, video_dim=DIM, dim=16, num_heads=2,
               encoder=dict(type='QueryVideoEncoder', char_dim=8), num_teachers=3,
               aggregator=dict(type='KnowledgeAggregationUnit'),
               data_preprocessor=dict(type='GroundingDataPreprocessor'))
    cfg.update(kwargs)
    return lambda: EMTM(**cfg)


@case(ValueError, r'vocab must be the GloVe subset folder or text file that TokenizeQuery uses '
      r"\(set the model's vocab\), got None")
def config_model_without_vocab(tmp):
    return emtm(vocab=None)


@case(ValueError, r'EMTM needs max_vlen, the length of its clip grid \(the max_vlen of '
      r'DownsampleClips\), got None')
def config_model_without_max_vlen(tmp):
    return emtm(max_vlen=None)


@case(ValueError, r"aggregator\.max_vlen=32 differs from the model's max_vlen=12")
def config_kau_max_vlen_differs(tmp):
    return emtm(aggregator=dict(type='KnowledgeAggregationUnit', dim=16, max_vlen=32))


@case(ValueError, r"data_preprocessor\.max_vlen=64 differs from the model's max_vlen=12")
def config_preprocessor_max_vlen_differs(tmp):
    return emtm(data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=64))


@case(ValueError, r'query v1#0 has 15 clips, more than max_vlen=8; add DownsampleClips\('
      r'max_vlen=8\) to the pipeline')
def config_features_longer_than_max_vlen(tmp):
    ann = write_json(tmp / 'ann.json', RECORDS)
    data = dataset(ann, good_features(tmp), pipeline=[
        dict(type='LoadClipFeatures', feature_dim=DIM),
        dict(type='TokenizeQuery', vocab=GLOVE), dict(type='PackGroundingInputs')])
    from mmengine.dataset import pseudo_collate
    return lambda: GroundingDataPreprocessor(max_vlen=8)(pseudo_collate([data[0], data[1]]))


@case(ValueError, r'clip features have 8 dimensions, the model expects video_dim=32')
def config_feature_dim_differs_from_the_model(tmp):
    model = init_grounder(STUDENT_CONFIG, cfg_options=dict(model=dict(
        dim=32, num_heads=4, video_dim=32, encoder=dict(char_dim=8))))
    return lambda: model.encoder.video_projection(torch.zeros(1, 4, DIM), torch.ones(1, 4))


@case(ValueError, r'training needs targets: add BuildGroundingTargets to the pipeline')
def config_training_pipeline_without_targets(tmp):
    return lambda: SpanPriorGrounder(num_bins=8)(dict(video_mask=torch.ones(1, 4)), mode='loss')


@case(KeyError, r'NoSuchTransform is not in the mmaction::transform registry')
def config_unknown_transform(tmp):
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: dataset(ann, good_features(tmp), pipeline=[dict(type='NoSuchTransform')])


@case(ValueError, r"files must be a non-empty list of teacher files, got '.*teacher\.npz'")
def config_teacher_files_not_a_list(tmp):
    return lambda: TRANSFORMS.build(dict(type='LoadTeacherCurves', files=str(tmp / 'teacher.npz')))


# --------------------------------------------------------------------------- red-team findings
# Silent wrong results, paths outside their folders, unnamed tracebacks (docs/errors.md).
@case(AnnotationError, r"anet\.json: unreadable annotation file \(key 'v_x' appears twice in one "
      r'object')
def activitynet_duplicate_video_key(tmp):
    entry = '{"duration": 30, "timestamps": [[1, 2]], "sentences": ["a dog barks"]}'
    (tmp / 'anet.json').write_text(f'{{"v_x": {entry}, "v_x": {entry}}}')
    return lambda: read_queries(str(tmp / 'anet.json'), dict(type='ActivityNetCaptionsReader'))


def tacos_entry() -> dict:
    return dict(timestamps=[[30, 90]], sentences=['he takes out a pan'], fps=30.0, num_frames=900)


@case(AnnotationError, r"tacos\.json: video s1\.avi: same video as key 's1' \(the \"\.avi\" is "
      r'dropped from ids\)')
def tacos_2dtan_avi_and_plain_key(tmp):
    ann = write_json(tmp / 'tacos.json', {'s1': tacos_entry(), 's1.avi': tacos_entry()})
    return lambda: read_queries(ann, dict(type='TACoS2DTANReader'))


@case(AnnotationError, r"tacos\.json: unreadable annotation file \(key 's1\.avi' appears twice")
def tacos_2dtan_duplicate_video_key(tmp):
    entry = json.dumps(tacos_entry())
    (tmp / 'tacos.json').write_text(f'{{"s1.avi": {entry}, "s1.avi": {entry}}}')
    return lambda: read_queries(str(tmp / 'tacos.json'), dict(type='TACoS2DTANReader'))


def charades_files(tmp: Path, csv_text: str) -> Callable:
    (tmp / 'charades.txt').write_text('AAA 1.0 5.0##a person opens a door.\n')
    (tmp / 'Charades_v1_train.csv').write_text(csv_text)
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp / 'Charades_v1_train.csv'))
    return lambda: read_queries(str(tmp / 'charades.txt'), reader)


@case(AnnotationError, r'Charades_v1_train\.csv: line 3 \(video AAA\): video AAA is listed twice '
      r'\(also line 2\)')
def charades_duration_csv_duplicate_id(tmp):
    return charades_files(tmp, 'id,length\nAAA,30.1\nAAA,12.0\n')


@case(AnnotationError, r'ann\.json: unreadable annotation file \(a number has more than 4300 '
      r'digits\)')
def annotation_number_with_5000_digits(tmp):
    (tmp / 'ann.json').write_text(f'[["v1", {"9" * 5000}, [2.0, 9.0], "a man opens the door."]]')
    return lambda: read_queries(str(tmp / 'ann.json'))


@case(AnnotationError, r'deep\.json: unreadable annotation file \(JSON nested too deep to '
      r'read\)')
def annotation_json_nested_too_deep(tmp):
    (tmp / 'deep.json').write_text('[' * 100_000 + ']' * 100_000)
    return lambda: read_queries(str(tmp / 'deep.json'))


@case(UnsafeVideoIdError, r"ann\.json: record 0: video id '\.\./\.\./evil' is not a plain file "
      r'name')
def annotation_video_id_outside_the_folder(tmp):
    ann = write_json(tmp / 'ann.json', [['../../evil', 30.0, [2.0, 9.0], 'a man opens the door.']])
    return lambda: read_queries(ann, skip_invalid=True)


@case(FeatureError, r"feature folder .*features: video id '/etc/passwd' is not a plain file name")
def feature_store_absolute_video_id(tmp):
    store = NpyFeatureStore(good_features(tmp))
    return lambda: store.load_checked('/etc/passwd')


@case(AnnotationError, r"ann\.json: record 0 \(video v1\): the sentence '\.\.\. !!! 🍳' has no "
      r'word \(no letter or digit\)')
def annotation_sentence_without_a_word(tmp):
    ann = write_json(tmp / 'ann.json', [['v1', 30.0, [2.0, 9.0], '... !!! 🍳'],
                                        ['v1', 30.0, [2.0, 9.0], '\u200b\u200b']])
    return lambda: read_queries(ann)


@case(FeatureError, r'cannot read features .*v1\.npy: the file is empty \(0 bytes\)')
def feature_file_zero_bytes(tmp):
    folder = good_features(tmp)
    (Path(folder) / 'v1.npy').write_bytes(b'')
    return load_features(tmp, folder)


@case(FeatureError, r'features .*v1\.npy must be real numbers, got dtype complex64')
def feature_values_complex(tmp):
    return load_features(tmp, write_features(tmp, v1=np.ones((15, DIM), np.complex64)))


@case(FeatureError, r'features .*v1\.npy have 15 clips, but .*feature_shapes\.json records 500 '
      r'for video v1')
def feature_shapes_json_count_differs(tmp):
    folder = good_features(tmp)
    write_json(Path(folder) / 'feature_shapes.json', {'v1': 500})
    return load_features(tmp, folder)


@case(FeatureError, r'feature_shapes\.json: video v1: the clip count must be a positive integer, '
      r'got -5')
def feature_shapes_json_count_negative(tmp):
    folder = good_features(tmp)
    write_json(Path(folder) / 'feature_shapes.json', {'v1': -5})
    return lambda: NpyFeatureStore(folder)


@case(FeatureError, r'features .*feats\.h5\[v1\] must be an HDF5 dataset \[n_clips, dim\], got a '
      r'Group')
def feature_hdf5_group_instead_of_a_dataset(tmp):
    import h5py
    with h5py.File(tmp / 'feats.h5', 'w') as f:
        f.create_group('v1').create_dataset('x', data=np.ones((15, DIM), np.float32))
    store = HDF5FeatureStore(str(tmp / 'feats.h5'))
    return lambda: store.load_checked('v1')


@case(VocabularyError, r'glove\.txt contains NaN or inf \(line 2\)')
def vocabulary_glove_text_nan(tmp):
    (tmp / 'glove.txt').write_text('door 0.1 0.2 0.3\npan 0.1 nan 0.3\n')
    return lambda: WordVocabulary.from_glove_text(str(tmp / 'glove.txt'))


@case(VocabularyError, r'embeds\.npy: the word vectors have dimension 0 \(\(3, 0\)\)')
def vocabulary_of_dimension_zero(tmp):
    return lambda: WordVocabulary.from_subset(subset(tmp, {'door': 0},
                                                     np.ones((3, 0), np.float32)))


def rewritten_curves(tmp: Path, curves: np.ndarray) -> str:
    """A valid curve file whose stored curves are then replaced by ``curves`` ``[2, 6]``."""
    path = curve_file(tmp)
    with np.load(path) as data:
        arrays = dict(data)
    arrays['curves'] = curves
    np.savez(path, **arrays)
    return path


@case(TeacherCurveError, r"teacher\.npz: query 'v1#0': curves contain NaN or inf")
def teacher_file_holds_nan(tmp):
    curves = np.ones((2, 6), np.float32)
    curves[1, 3] = np.nan
    return lambda: TeacherCurveFile(rewritten_curves(tmp, curves))


@case(TeacherCurveError, r'teacher\.npz: curves must be floating point scores \(probabilities '
      r'or logits\), got dtype int64')
def teacher_file_holds_integers(tmp):
    return lambda: TeacherCurveFile(rewritten_curves(tmp, np.ones((2, 6), np.int64)))


@case(TeacherCurveError, r"teacher\.npz: query 'v1#0': curves hold negative values \(-2\), but "
      r"normalize='sum' needs non-negative scores")
def teacher_curves_negative_for_a_distribution(tmp):
    return load_curves([curve_file(tmp, np.full((2, 6), -2.0, np.float32))])


@case(CheckpointReadError, r'checkpoint .*epoch_3\.pth is not a readable torch checkpoint '
      r'\(truncated')
def resume_from_a_truncated_checkpoint(tmp):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = save_checkpoint(tmp / 'epoch_3.pth', SpanPriorGrounder(num_bins=8))
    Path(path).write_bytes(Path(path).read_bytes()[:-200])
    return lambda: _load_checkpoint(path, map_location='cpu')  # what Runner.resume calls


@case(ConfigOptionError, r"--cfg-options train_cfg\.max_epochs='abc': the config has int 5 there")
def cfg_option_of_the_wrong_type(tmp):
    from mmengine.config import Config
    cfg = Config.fromfile(STUDENT_CONFIG)
    return lambda: merge_cfg_options(cfg, {'train_cfg.max_epochs': 'abc'})


@case(AtomicWriteError, r'cannot write .*features/v1\.npy: .*is the disk full\? [0-9.]+ MiB free '
      r'in .*features \(the file was left as it was\)')
def features_written_to_a_full_disk(tmp):
    features = np.ones((4096, 256), np.float32)  # 4 MiB; the file size limit below is 64 KiB
    return lambda: with_file_size_limit(64 * 1024, save_npy_atomic, features,
                                        str(tmp / 'features' / 'v1.npy'))


def with_file_size_limit(limit: int, func: Callable, *args):
    """Call ``func(*args)`` as if the disk were full after ``limit`` bytes of a file (RLIMIT_FSIZE
    with SIGXFSZ ignored: a write past it fails with EFBIG)."""
    import resource
    import signal
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        return func(*args)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)



# --------------------------------------------------------------------------- hostile data files
def shared_nest(depth: int, fanout: int = 10) -> list:
    """A list nested ``depth`` deep whose items are all the same list: ``fanout ** depth``
    leaves, a few hundred bytes pickled (the pickle memo stores each level once)."""
    node = [0.5] * fanout
    for _ in range(depth - 1):
        node = [node] * fanout
    return node


def forged_npy(path: Path, shape: tuple, dtype: str = '<f4', data: bytes = b'\0' * 64) -> str:
    """An ``.npy`` whose header states ``shape`` but that holds only ``data``."""
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(
            f, dict(descr=dtype, fortran_order=False, shape=shape))
        f.write(data)
    return str(path)


@case(TeacherCurveError, r'curves\.pkl: more than 10,000,000 elements \(lists or objects '
      r'repeated through shared references count at each place they appear')
def teacher_reference_list_of_shared_references(tmp):
    deep = shared_nest(12)
    (tmp / 'curves.pkl').write_bytes(pickle.dumps([('v1', deep), ('v1', deep)]))
    assert (tmp / 'curves.pkl').stat().st_size < 2000
    ann = write_json(tmp / 'ann.json', RECORDS)
    return lambda: TeacherCurveFile(str(tmp / 'curves.pkl'), ann_file=ann)


@case(TeacherCurveError, r'outputs\.pkl: containers nested more than 32 deep')
def teacher_outputs_nested_too_deep(tmp):
    from mmemtm.apis.external_output_import import load_outputs
    (tmp / 'outputs.pkl').write_bytes(pickle.dumps({'v1#0': dict(logits=shared_nest(40, 1))}))
    return lambda: load_outputs(str(tmp / 'outputs.pkl'))


def rewritten_meta(tmp: Path, meta) -> str:
    path = curve_file(tmp)
    with np.load(path) as data:
        arrays = dict(data)
    arrays['meta'] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    return path


@case(TeacherCurveError, r'teacher\.npz: bad meta: expected a JSON object .*got a list')
def teacher_file_meta_not_an_object(tmp):
    return lambda: TeacherCurveFile(rewritten_meta(tmp, ['mmemtm-teacher-curves', 1]))


@case(TeacherCurveError, r'teacher\.npz: bad meta: "teacher" must be a string, got None \(meta '
      r'keys: format, version, kind, num_queries\)')
def teacher_file_meta_without_teacher(tmp):
    meta = dict(format='mmemtm-teacher-curves', version=1, kind='span', num_queries=1)
    return lambda: TeacherCurveFile(rewritten_meta(tmp, meta))


@case(TeacherCurveError, r'teacher\.npz\[curves\]: the header states an array of shape '
      r'\(2, 1000000000000\) \(float32, 7\.28 TiB\), but the file holds only')
def teacher_file_member_with_a_huge_header(tmp):
    path = curve_file(tmp)
    forged = forged_npy(tmp / 'curves.npy', (2, 10 ** 12))
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != 'curves'}
    np.savez(path, **arrays)
    import zipfile
    with zipfile.ZipFile(path, 'a') as archive:
        archive.write(forged, 'curves.npy')
    return lambda: TeacherCurveFile(path)


@case(FeatureError, r'v1\.npy: the header states an array of shape \(1000000000000, 8\) '
      r'\(float32, 29\.10 TiB\), but the file holds only 64 bytes of data')
def feature_npy_header_too_large(tmp):
    folder = good_features(tmp)
    forged_npy(Path(folder) / 'v1.npy', (10 ** 12, DIM))
    return load_features(tmp, folder)


@case(FeatureError, r'features .*feats\.h5\[v1\]: the dataset holds no data \(created with '
      r'shape \(100000, 1024\) but never written; it would read as zeros\)')
def feature_hdf5_dataset_never_written(tmp):
    import h5py
    with h5py.File(tmp / 'feats.h5', 'w') as f:
        f.create_dataset('v1', shape=(10 ** 5, 1024), dtype='f4')
    assert (tmp / 'feats.h5').stat().st_size < 4096
    store = HDF5FeatureStore(str(tmp / 'feats.h5'))
    return lambda: store.load_checked('v1')


@case(FeatureError, r'features .*feats\.h5\[v1\]: the dataset stores 4096 bytes, but its shape '
      r'\(1000000000, 1024\) \(float32\) needs 3\.73 TiB')
def feature_hdf5_header_too_large(tmp):
    import h5py
    with h5py.File(tmp / 'feats.h5', 'w') as f:
        dset = f.create_dataset('v1', shape=(10 ** 9, 1024), dtype='f4', chunks=(1, 1024))
        dset[0] = np.ones(1024, np.float32)
    store = HDF5FeatureStore(str(tmp / 'feats.h5'))
    return lambda: store.load_checked('v1')


@case(VocabularyError, r'cannot read .*glove/embeds\.npy: the header states an array of shape '
      r'\(1000000000000, 3\) \(float32, 10\.91 TiB\), but the file holds only 64 bytes')
def vocabulary_embeddings_header_too_large(tmp):
    folder = subset(tmp, {'door': 0})
    forged_npy(Path(folder) / 'embeds.npy', (10 ** 12, 3))
    return lambda: WordVocabulary.from_subset(folder)


@case(AnnotationError, r'ann\.json: record 1 \(video v1\): duration 40\.0 s differs from the '
      r'30\.0 s of record 0 \(one video has one duration\)')
def annotation_video_with_two_durations(tmp):
    return lambda: read_queries(write_json(tmp / 'ann.json', [RECORDS[0],
                                                              ['v1', 40.0, [1.0, 2.0], 'a']]))



@case(ConfigFileError, r'config .*evil\.yaml: cannot read it as YAML: could not determine a '
      r'constructor for the tag .*python/object/apply:os\.system')
def yaml_config_that_runs_code(tmp):
    from mmengine.config import Config
    (tmp / 'evil.yaml').write_text(f'x: !!python/object/apply:os.system ["touch {tmp}/ran"]\n')
    return lambda: Config.fromfile(str(tmp / 'evil.yaml'))



@case(CheckpointMismatchError, r'checkpoint .*nan\.pth holds NaN or inf in [0-9]+ of the [0-9]+ '
      r'weights of the EMTM \(e\.g\. encoder\..*\): its scores would be NaN')
def checkpoint_with_nan_weights(tmp):
    model = init_grounder(STUDENT_CONFIG, cfg_options=TINY_MODEL)
    weights = {k: torch.full_like(v, float('nan')) if v.is_floating_point() else v
               for k, v in model.state_dict().items()}
    torch.save(dict(meta={}, state_dict=weights), tmp / 'nan.pth')
    return lambda: init_grounder(STUDENT_CONFIG, str(tmp / 'nan.pth'), cfg_options=TINY_MODEL)


def demo_features(tmp: Path, write: Callable) -> Callable:
    """``VideoGrounder.from_features`` (what ``tools/demo.py --features F`` calls) on ``F``."""
    from mmemtm.apis import VideoGrounder
    model = init_grounder(STUDENT_CONFIG, cfg_options=TINY_MODEL)
    path = tmp / 'video.npy'
    write(path)
    return lambda: VideoGrounder.from_features(model, str(path), 30.0)


@case(FeatureError, r'features .*video\.npy contain NaN or inf')
def demo_features_nan(tmp):
    return demo_features(tmp, lambda p: np.save(p, np.full((15, 1024), np.nan, np.float32)))


@case(FeatureError, r'features .*video\.npy hold values up to 1e\+30, beyond \+-1e\+06: not clip '
      r'features')
def demo_features_huge_values(tmp):
    return demo_features(tmp, lambda p: np.save(p, np.full((15, 1024), 1e30, np.float32)))


@case(FeatureError, r'cannot read features .*video\.npy: holds Python objects \(dtype object\)')
def demo_features_object_array(tmp):
    objects = np.empty((15, 1024), dtype=object)
    objects[:] = 1.0
    return demo_features(tmp, lambda p: np.save(p, objects, allow_pickle=True))


@case(FeatureError, r'cannot read features .*video\.npy: the file is empty \(0 bytes\)')
def demo_features_zero_bytes(tmp):
    return demo_features(tmp, lambda p: p.write_bytes(b''))


@case(FeatureError, r'cannot read features .*video\.npy: the header states an array of shape '
      r'\(1000000000000, 1024\)')
def demo_features_huge_header(tmp):
    return demo_features(tmp, lambda p: forged_npy(p, (10 ** 12, 1024)))



class MeanColour(torch.nn.Module):
    """Stand-in feature network: a clip's feature is its mean RGB."""

    feature_dim = 3

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return clips


def extraction_into(tmp: Path, **files: bytes) -> Callable:
    """``extract_features_to_folder`` of video v1 into a folder holding ``files``."""
    from mmemtm.apis.feature_extraction import ClipFeatureExtractor, extract_features_to_folder
    out = tmp / 'features'
    out.mkdir()
    for name, data in files.items():
        (out / name.replace('__', '.')).write_bytes(data)
    extractor = ClipFeatureExtractor(MeanColour(), channels_last=False)
    return lambda: extract_features_to_folder(extractor, [('v1', str(tmp / 'v1.mp4'))], str(out))


@case(FeatureError, r'features/v1\.npy: the file is empty \(0 bytes\): an existing feature file '
      r'is unreadable; delete it to write it again')
def extraction_folder_with_a_zero_byte_npy(tmp):
    return extraction_into(tmp, v1__npy=b'')


@case(FeatureError, r'features/feature_recipe\.json: unreadable recipe of the feature folder '
      r'\(Unterminated string')
def extraction_recipe_truncated(tmp):
    return extraction_into(tmp, feature_recipe__json=b'{"fps": 24.0, "wind')


@case(FeatureError, r'features/feature_recipe\.json: the recipe of the feature folder must be a '
      r'JSON object, got a list')
def extraction_recipe_not_an_object(tmp):
    return extraction_into(tmp, feature_recipe__json=b'[24.0, 24]')


def planted_again(tmp: Path, shapes_text: str) -> Callable:
    """Planted generation into a finished folder whose ``feature_shapes.json`` was replaced."""
    queries = read_queries(write_json(tmp / 'ann.json', RECORDS))[0]
    generator = PlantedFeatureGenerator(load_word_vocabulary(GLOVE), dim=DIM, seed=0)
    generator.generate(queries, str(tmp / 'planted'))
    (tmp / 'planted' / 'feature_shapes.json').write_text(shapes_text)
    return lambda: generator.generate(queries, str(tmp / 'planted'), skip_existing=True)


@case(FeatureError, r'planted/feature_shapes\.json must map video ids to clip counts: Expecting')
def planted_shapes_json_truncated(tmp):
    return planted_again(tmp, '{"v1": 1')


@case(FeatureError, r"planted/feature_shapes\.json must map video ids to clip counts: key 'v0' "
      r'appears twice in one object')
def planted_shapes_json_duplicate_key(tmp):
    return planted_again(tmp, '{"v0": 8, "v1": 15, "v0": 9}')


@case(UnsafeNameError, r"video id 'vvvvvvvvvv.*\.\.\. \(300 characters\) is too long for a file "
      r"name: .* would make a name of 304 bytes, more than the 255 file systems allow")
def planted_video_id_too_long(tmp):
    queries = read_queries(write_json(tmp / 'ann.json', [['v' * 300, 30.0, [2.0, 9.0], 'a']]))[0]
    generator = PlantedFeatureGenerator(load_word_vocabulary(GLOVE), dim=DIM, seed=0)
    return lambda: generator.generate(queries, str(tmp / 'planted'))



def onnx_with_metadata(tmp: Path, **changed: str) -> Callable:
    """A small ONNX graph carrying mmemtm's metadata, with ``changed`` entries (raw strings)."""
    import onnx
    from mmemtm.deployment import OnnxRuntimeGrounder
    from mmemtm.deployment.export import GraphSpec
    path = tmp / 'model.onnx'
    torch.onnx.export(torch.nn.Linear(3, 2), (torch.zeros(1, 3), ), str(path), dynamo=False)
    spec = GraphSpec(model_type='EMTM', kind='span', max_vlen=8, video_dim=DIM, num_words=10,
                     num_chars=0, min_chars=0, dynamic_batch=True,
                     decoding=dict(topk=5, nms_thr=0.5, max_span_len=None))
    graph = onnx.load(str(path))
    for key, value in dict(spec.metadata(), **changed).items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(path))
    return lambda: OnnxRuntimeGrounder(str(path))


@case(ValueError, r"model\.onnx: metadata mmemtm\.max_vlen is not JSON \('sixty-four': "
      r'Expecting value')
def onnx_metadata_not_json(tmp):
    return onnx_with_metadata(tmp, **{'mmemtm.max_vlen': 'sixty-four'})


@case(ValueError, r"model\.onnx: metadata mmemtm\.max_vlen must be a non-negative integer, got "
      r"'64'; export the file again")
def onnx_metadata_of_the_wrong_type(tmp):
    return onnx_with_metadata(tmp, **{'mmemtm.max_vlen': '"64"'})



def video_claiming(path: Path, seconds_per_frame: int, frames: int = 10) -> str:
    """A 1 KB mp4 of ``frames`` frames whose timing (stts, mdhd, mvhd) claims each lasts
    ``seconds_per_frame`` seconds."""
    import struct
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, (96, 96))
    for i in range(frames):
        writer.write(np.full((96, 96, 3), 20 * i, np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    at = data.find(b'mdhd')
    timescale = struct.unpack('>I', data[at + 16:at + 20])[0]
    data[at + 20:at + 24] = struct.pack('>I', seconds_per_frame * frames * timescale)
    at = data.find(b'stts')
    data[at + 16:at + 20] = struct.pack('>I', seconds_per_frame * timescale)
    at = data.find(b'mvhd')
    movie_scale = struct.unpack('>I', data[at + 16:at + 20])[0]
    data[at + 20:at + 24] = struct.pack('>I', seconds_per_frame * frames * movie_scale)
    path.write_bytes(bytes(data))
    return str(path)


@case(VideoReadError, r'video .*long\.mp4 claims 4000\.0 s but holds only 1 decodable frame\(s\) '
      r'\(0\.00025 per second, fewer than 1\): its container.s timing is wrong or the file is '
      r'truncated; refused instead of extracting 4000 clips of repeated frames')
def video_claiming_4000_s_in_2_kb(tmp):
    from mmemtm.apis.feature_extraction import ClipFeatureExtractor
    path = video_claiming(tmp / 'long.mp4', 4000)
    assert Path(path).stat().st_size < 2048
    extractor = ClipFeatureExtractor(MeanColour(), channels_last=False)
    return lambda: extractor.extract(path)


@pytest.mark.parametrize('build, exc, pattern', CASES)
def test_bad_input_fails_with_a_clear_error(tmp_path, build, exc, pattern):
    action = build(tmp_path)
    with pytest.raises(exc, match=pattern):
        action()


def test_catalogue_is_documented():
    doc = (REPO_ROOT / 'docs' / 'errors.md').read_text()
    missing = [c.id for c in CASES if f'`{c.id}`' not in doc]
    assert not missing, f'cases missing from docs/errors.md: {missing}'
    assert len(CASES) >= 15


# --------------------------------------------------------------------------- checkpoints, tools
def test_mmengine_alone_loads_another_models_checkpoint(tmp_path):
    """Why the check exists: mmengine only warns and leaves the weights untrained."""
    from mmengine.runner import load_checkpoint
    path = save_checkpoint(tmp_path / 'span_prior.pth', SpanPriorGrounder(num_bins=8))
    model = init_grounder(STUDENT_CONFIG, cfg_options=TINY_MODEL)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    load_checkpoint(model, path, map_location='cpu', logger='silent')
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_the_test_tool_refuses_a_checkpoint_of_another_model(tmp_path, tiny_planted,
                                                             tiny_cfg_options, run_tool):
    path = save_checkpoint(tmp_path / 'span_prior.pth', SpanPriorGrounder(num_bins=8))
    proc = run_tool(
        ['tools/test.py', STUDENT_CONFIG, path, '--work-dir', str(tmp_path / 'w'),
         '--cfg-options', *tiny_cfg_options(tiny_planted), 'model.dim=32', 'model.num_heads=4',
         'model.encoder.char_dim=8', 'model.video_dim=32'], check=False)
    assert proc.returncode != 0
    assert re.search(r'CheckpointMismatchError: checkpoint .*span_prior\.pth does not fit the '
                     r'EMTM of the config: only 0 of its [0-9]+ weights are in it \([0-9]+ '
                     r'missing, e\.g\. encoder\.', proc.stderr), proc.stderr[-3000:]
    assert 'R1@0.5' not in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- failures half-way
def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def interrupt_after(monkeypatch, module, name: str, calls: int) -> None:
    """Make ``module.name`` write half its output and raise KeyboardInterrupt from call
    ``calls`` on (as when the process is stopped while writing)."""
    original = getattr(module, name)
    count = {'n': 0}

    def flaky(file, *args, **kwargs):
        count['n'] += 1
        if count['n'] < calls:
            return original(file, *args, **kwargs)
        file.write(b'\x93NUMPY partial')
        raise KeyboardInterrupt

    monkeypatch.setattr(module, name, flaky)


def test_interrupted_planted_generation_keeps_the_previous_files(tmp_path, monkeypatch):
    records = RECORDS + [['v2', 12.0, [1.0, 2.0], 'a dog barks'],
                         ['v3', 50.0, [5.0, 9.0], 'he closes the door']]
    queries = read_queries(write_json(tmp_path / 'ann.json', records))[0]
    generator = PlantedFeatureGenerator(load_word_vocabulary(GLOVE), dim=DIM, seed=0)
    out = tmp_path / 'planted'
    generator.generate(queries, str(out))
    before = snapshot(out)
    interrupt_after(monkeypatch, np, 'save', calls=2)
    with pytest.raises(KeyboardInterrupt):
        generator.generate(queries, str(out))
    assert snapshot(out) == before  # no partial .npy replaced a good one, no temporary file


def test_folder_of_an_interrupted_planted_generation_keeps_its_recipe(tmp_path, monkeypatch):
    queries = read_queries(write_json(tmp_path / 'ann.json', RECORDS + [
        ['v2', 12.0, [1.0, 2.0], 'a dog barks']]))[0]
    vocab = load_word_vocabulary(GLOVE)
    out = tmp_path / 'planted'
    with monkeypatch.context() as patch:
        interrupt_after(patch, np, 'save', calls=2)
        with pytest.raises(KeyboardInterrupt):
            PlantedFeatureGenerator(vocab, dim=DIM, seed=0).generate(queries, str(out))
    assert sorted(p.name for p in out.iterdir()) == ['planted_meta.json', 'v1.npy']
    with pytest.raises(ValueError, match='holds planted features of another recipe'):
        PlantedFeatureGenerator(vocab, dim=DIM, seed=1).generate(queries, str(out),
                                                                 skip_existing=True)


def test_failed_curve_dump_keeps_the_previous_file(tmp_path, monkeypatch):
    path = curve_file(tmp_path)
    before = snapshot(tmp_path)

    def entries():
        yield TeacherCurveEntry('v1#0', 'v1', 'a man opens the door.', np.zeros((2, 5)))
        raise RuntimeError('the teacher failed on batch 2')

    with pytest.raises(RuntimeError, match='batch 2'):
        save_teacher_curves(path, entries(), 'T', 'span')
    interrupt_after(monkeypatch, np, 'savez', calls=1)
    with pytest.raises(KeyboardInterrupt):
        save_teacher_curves(path, [TeacherCurveEntry('v1#0', 'v1', 'a', np.zeros((2, 5)))],
                            'T', 'span')
    assert snapshot(tmp_path) == before
    assert TeacherCurveFile(path).entry('v1#0').curves.shape == (2, 6)
