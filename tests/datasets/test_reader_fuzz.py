"""Fuzzing of the five annotation readers: whatever a file holds, reading it either gives valid
queries or raises AnnotationError (a ValueError naming the file); nothing else escapes."""
import json
import math
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mmemtm.datasets import AnnotationError, read_queries

FUZZ = settings(deadline=None, max_examples=60,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Text that can be written to a UTF-8 file (no lone surrogates), unicode included.
texts = st.text(st.characters(exclude_categories=['Cs']), max_size=20)
#: Numbers as they occur in bad files: NaN, infinities, negative, huge, and non-numbers.
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5.0, max_value=300.0),
    st.integers(min_value=-10**30, max_value=10**30),
    st.booleans(), st.none(), texts,
    st.sampled_from(['nan', 'inf', '-inf', '1e400', '12.5', ' 7 ', '0x10', '']))
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)
sentences = st.one_of(texts, st.sampled_from(['a man opens the door.', '  ', 'Ünïcødé 🎬 ok']),
                      json_values)
pairs = st.one_of(st.lists(numbers, min_size=2, max_size=2), json_values)


@st.composite
def valid_moments(draw) -> tuple:
    """``(duration, [start, end], sentence)`` of a valid query (seconds)."""
    duration = draw(st.floats(min_value=0.5, max_value=1e5))
    start = draw(st.floats(min_value=0.0, max_value=0.99)) * duration
    end = start + draw(st.floats(min_value=0.01, max_value=1.0)) * (duration - start)
    sentence = draw(st.sampled_from(['a man opens the door.', ' Ünïcødé 🎬 ok ', 'x']))
    return duration, [start, end], sentence


records = st.one_of(
    st.tuples(texts, numbers, pairs, sentences).map(list),
    st.tuples(st.sampled_from(['v1', 'v2', 'vidéo']), valid_moments()).map(
        lambda t: [t[0], t[1][0], t[1][1], t[1][2]]))


def check_queries(path: Path, reader=None, skip_invalid: bool = False,
                  duration_file: Optional[Path] = None) -> None:
    """Read ``path``; an error must name the file at fault, and valid queries must satisfy the
    documented invariants."""
    try:
        queries, skipped = read_queries(str(path), reader, skip_invalid=skip_invalid)
    except AnnotationError as exc:
        assert str(path) in str(exc) or (duration_file and str(duration_file) in str(exc))
        event('AnnotationError')
        return
    event('valid queries')
    assert queries
    assert all(isinstance(msg, str) and str(path) in msg for msg in skipped)
    for q in queries:
        start, end = q['timestamp']
        assert math.isfinite(q['duration']) and q['duration'] > 0
        assert 0 <= start < end <= q['duration']
        assert q['sentence'] == q['sentence'].strip() != ''
        assert q['query_id'] == f'{q["video_id"]}#{q["ann_index"]}'


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj), encoding='utf-8')
    return path


@pytest.fixture(scope='module')
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('reader_fuzz')


@FUZZ
@given(data=json_values, skip=st.booleans())
def test_json_list_reader_on_any_json(folder, data, skip):
    check_queries(write(folder / 'any.json', data), skip_invalid=skip)


@FUZZ
@given(data=st.lists(records, max_size=6), skip=st.booleans())
def test_json_list_reader_on_near_valid_records(folder, data, skip):
    check_queries(write(folder / 'records.json', data), skip_invalid=skip)


valid_anet_videos = st.lists(valid_moments(), min_size=1, max_size=3).map(lambda ms: dict(
    duration=ms[0][0], timestamps=[m[1] for m in ms if m[1][1] <= ms[0][0]],
    sentences=[m[2] for m in ms if m[1][1] <= ms[0][0]]))


@FUZZ
@given(videos=st.dictionaries(
    texts, st.one_of(json_values, valid_anet_videos, st.fixed_dictionaries(dict(
        duration=numbers, timestamps=st.lists(pairs, max_size=3),
        sentences=st.lists(sentences, max_size=3)))), max_size=3), skip=st.booleans())
def test_activitynet_reader(folder, videos, skip):
    check_queries(write(folder / 'anet.json', videos), dict(type='ActivityNetCaptionsReader'),
                  skip)


@FUZZ
@given(videos=st.dictionaries(
    st.one_of(texts, texts.map(lambda s: s + '.avi')),
    st.one_of(json_values, valid_anet_videos.map(lambda v: dict(
        fps=25.0, num_frames=v['duration'] * 25.0, sentences=v['sentences'],
        timestamps=[[s * 25.0, e * 25.0] for s, e in v['timestamps']])),
        st.fixed_dictionaries(dict(
            fps=numbers, num_frames=numbers, timestamps=st.lists(pairs, max_size=3),
            sentences=st.lists(sentences, max_size=3)))), max_size=3), skip=st.booleans())
def test_tacos_2dtan_reader(folder, videos, skip):
    check_queries(write(folder / 'tacos.json', videos), dict(type='TACoS2DTANReader'), skip)


valid_tall_lines = valid_moments().map(  # valid for video AAA of 100 s
    lambda m: f'AAA {100 * m[1][0] / m[0]} {100 * m[1][1] / m[0]}##{m[2]}')
tall_lines = st.one_of(
    texts, valid_tall_lines,
    st.tuples(st.sampled_from(['AAA', 'BBB', 'ÇÇÇ', '']), numbers, numbers, texts).map(
        lambda t: f'{t[0]} {t[1]} {t[2]}##{t[3]}'))


@FUZZ
@given(lines=st.one_of(st.lists(tall_lines, max_size=6),
                      st.lists(valid_tall_lines, min_size=1, max_size=3)),
       durations=st.one_of(
           st.dictionaries(st.sampled_from(['AAA', 'BBB', 'ÇÇÇ']), numbers, max_size=3),
           st.dictionaries(st.sampled_from(['BBB', 'ÇÇÇ']), numbers).map(
               lambda d: dict(d, AAA=100.0))),
       csv=st.booleans(), skip=st.booleans())
def test_charades_reader(folder, lines, durations, csv, skip):
    ann = folder / 'charades.txt'
    ann.write_text('\n'.join(lines), encoding='utf-8')
    if csv:
        duration_file = folder / 'durations.csv'
        duration_file.write_text('id,length\n' + ''.join(
            f'{vid},{seconds}\n' for vid, seconds in durations.items()), encoding='utf-8')
    else:
        duration_file = write(folder / 'durations.json', durations)
    reader = dict(type='CharadesSTAReader', duration_file=str(duration_file))
    check_queries(ann, reader, skip, duration_file)


@FUZZ
@given(raw=st.binary(max_size=64), reader=st.sampled_from([
    None, dict(type='ActivityNetCaptionsReader'), dict(type='TACoS2DTANReader'),
    dict(type='CSVReader', split='train')]))
def test_readers_on_arbitrary_bytes(folder, raw, reader):
    path = folder / 'bytes.json'
    path.write_bytes(raw)
    check_queries(path, reader)


csv_cells = st.one_of(texts, numbers.map(str), st.sampled_from(['v1', 'v2.mp4', '', '"', 'a, b']))
valid_csv_rows = st.tuples(st.sampled_from(['v1', 'v2.mp4']), valid_moments()).map(
    lambda t: [t[0], t[1][1][0], t[1][1][1], t[1][2], t[1][0]])


@FUZZ
@given(header=st.one_of(st.just(['video', 'start', 'end', 'sentence', 'duration']),
                        st.lists(st.sampled_from(['video', 'start', 'end', 'sentence',
                                                  'duration', 'split', ' Video ', '']),
                                 max_size=7)),
       rows=st.lists(st.one_of(valid_csv_rows, st.lists(csv_cells, max_size=6)), max_size=6),
       split=st.sampled_from([None, 'train', 'val']), skip=st.booleans())
def test_csv_reader(folder, header, rows, split, skip):
    import csv
    path = folder / 'sentences.csv'
    with open(path, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows([header, *[[str(c) for c in row] for row in rows]])
    check_queries(path, dict(type='CSVReader', split=split), skip)
