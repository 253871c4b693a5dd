"""Readers of the TSGV annotation formats.

Every reader turns a file into :class:`RawQuery` tuples in file order; times are in seconds.
:func:`read_queries` then validates them, numbers each video's queries and builds the query ids.

Formats (``reader=dict(type=...)`` in a dataset config):

* ``JsonListReader``: ``[[video_id, duration, [start, end], sentence], ...]`` (VSLNet, SeqPAN,
  EMTM files of TACoS, Charades-STA and ActivityNet Captions).
* ``TACoS2DTANReader``: ``{"s13-d21.avi": {"timestamps": [[f0, f1], ...], "sentences": [...],
  "fps": 29.4, "num_frames": 2939}}``; times in frames, the ``.avi`` is dropped from the id.
* ``CharadesSTAReader``: TALL lines ``VID start end##sentence``; durations from a side file
  (``Charades_duration.json`` style ``{vid: seconds}`` or the Charades ``Charades_v1_*.csv`` with
  ``id`` and ``length`` columns).
* ``ActivityNetCaptionsReader``: ``{"v_xxx": {"duration": d, "timestamps": [[s, e], ...],
  "sentences": [...]}}``.

Readers are registered in mmaction's ``TASK_UTILS`` registry.
"""
import csv
import math
import os.path as osp
import unicodedata
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

from mmaction.registry import TASK_UTILS
from mmemtm.utils import JsonFileError, UnsafeNameError, check_plain_name, read_json


class AnnotationError(ValueError):
    """An annotation file or one of its records is invalid; the message names both."""


class UnsafeVideoIdError(AnnotationError, UnsafeNameError):
    """A video id would make a path outside its folder; never skipped by ``skip_invalid``."""


class RawQuery(NamedTuple):
    """One query as read from a file; ``where`` locates it (e.g. ``'record 12'``)."""
    video_id: str
    duration: Any
    start: Any
    end: Any
    sentence: Any
    where: str


def _load_json(path: str) -> Any:
    if not osp.isfile(path):
        raise AnnotationError(f'{path}: annotation file does not exist')
    try:
        return read_json(path)
    except JsonFileError as exc:
        raise AnnotationError(f'{path}: unreadable annotation file ({exc.reason})') from exc
    except OSError as exc:
        raise AnnotationError(f'{path}: unreadable annotation file ({exc})') from exc


def _expect(condition: bool, path: str, where: str, message: str) -> None:
    if not condition:
        raise AnnotationError(f'{path}: {where}: {message}')


def _paired(path: str, vid: str, entry: Any, keys: Tuple[str, ...]) -> Dict[str, Any]:
    where = f'video {vid}'
    _expect(isinstance(entry, dict), path, where, 'expected an object')
    for key in keys:
        _expect(key in entry, path, where, f'missing key {key!r}')
    _expect(
        isinstance(entry['timestamps'], list) and isinstance(entry['sentences'], list)
        and len(entry['timestamps']) == len(entry['sentences']), path, where,
        '"timestamps" and "sentences" must be lists of the same length')
    return entry


def _pair(path: str, where: str, value: Any) -> Tuple[Any, Any]:
    _expect(
        isinstance(value, (list, tuple)) and len(value) == 2, path, where,
        f'timestamp must be [start, end], got {value!r}')
    return value[0], value[1]


@TASK_UTILS.register_module()
class JsonListReader:
    """``[video_id, duration, [start, end], sentence]`` records, times in seconds."""

    def __call__(self, path: str) -> Iterator[RawQuery]:
        data = _load_json(path)
        _expect(isinstance(data, list), path, 'top level', 'expected a JSON list of records')
        for i, rec in enumerate(data):
            where = f'record {i}'
            _expect(
                isinstance(rec, (list, tuple)) and len(rec) == 4 and isinstance(rec[0], str),
                path, where, f'expected [video_id, duration, [start, end], sentence], got {rec!r}')
            start, end = _pair(path, where, rec[2])
            yield RawQuery(rec[0], rec[1], start, end, rec[3], where)


@TASK_UTILS.register_module()
class TACoS2DTANReader:
    """TACoS as distributed with 2D-TAN: times in frames, ``fps`` and ``num_frames`` per video."""

    def __call__(self, path: str) -> Iterator[RawQuery]:
        data = _load_json(path)
        _expect(isinstance(data, dict), path, 'top level', 'expected an object keyed by video')
        keys: Dict[str, str] = {}
        for key, entry in data.items():
            entry = _paired(path, key, entry, ('timestamps', 'sentences', 'fps', 'num_frames'))
            vid = osp.splitext(key)[0] if key.endswith('.avi') else key
            _expect(vid not in keys, path, f'video {key}',
                    f'same video as key {keys.get(vid)!r} (the ".avi" is dropped from ids)')
            keys[vid] = key
            fps = _number(entry['fps'], path, f'video {key}: fps')
            _expect(fps > 0, path, f'video {key}', f'fps must be positive, got {fps!r}')
            duration = _number(entry['num_frames'], path, f'video {key}') / fps
            for j, (stamp, sentence) in enumerate(zip(entry['timestamps'], entry['sentences'])):
                where = f'video {key} annotation {j}'
                f0, f1 = _pair(path, where, stamp)
                yield RawQuery(vid, duration, _number(f0, path, where) / fps,
                               _number(f1, path, where) / fps, sentence, where)


def _read_durations(path: str) -> Dict[str, float]:
    if not osp.isfile(path):
        raise AnnotationError(f'{path}: duration file does not exist')
    if path.endswith('.csv'):
        try:
            with open(path, encoding='utf-8-sig', newline='') as f:
                return _csv_durations(path, csv.DictReader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise AnnotationError(f'{path}: unreadable duration file ({exc})') from exc
    data = _load_json(path)
    _expect(isinstance(data, dict), path, 'top level', 'expected {video_id: seconds}')
    return data


def _csv_durations(path: str, reader: csv.DictReader) -> Dict[str, float]:
    if not {'id', 'length'} <= set(reader.fieldnames or ()):
        raise AnnotationError(f'{path}: a duration CSV needs "id" and "length" columns, got '
                              f'{reader.fieldnames}')
    durations: Dict[str, float] = {}
    lines: Dict[str, int] = {}
    for row in reader:
        vid, where = row['id'], f'line {reader.line_num} (video {row["id"]})'
        _expect(vid not in lines, path, where, f'video {vid} is listed twice (also line '
                f'{lines.get(vid)})')
        durations[vid] = _number(row['length'], path, f'{where}: length')
        lines[vid] = reader.line_num
    return durations


def _text_lines(text: str) -> List[str]:
    """Lines ended by ``\\n`` or ``\\r\\n`` only: a U+2028 inside a sentence does not split it
    (``str.splitlines`` would)."""
    return [line[:-1] if line.endswith('\r') else line for line in text.split('\n')]


@TASK_UTILS.register_module()
class CharadesSTAReader:
    """Charades-STA TALL lines ``VID start end##sentence``.

    Args:
        duration_file: ``{video_id: seconds}`` JSON or Charades ``Charades_v1_*.csv``.
    """

    def __init__(self, duration_file: str) -> None:
        self.duration_file = duration_file

    def __call__(self, path: str) -> Iterator[RawQuery]:
        durations = _read_durations(self.duration_file)
        if not osp.isfile(path):
            raise AnnotationError(f'{path}: annotation file does not exist')
        try:
            with open(path, encoding='utf-8-sig', newline='') as f:
                lines = _text_lines(f.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise AnnotationError(f'{path}: unreadable annotation file ({exc})') from exc
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f'line {line_no}'
            head, sep, sentence = line.partition('##')
            fields = head.split()
            _expect(sep == '##' and len(fields) == 3, path, where,
                    f'expected "VID start end##sentence", got {line!r}')
            vid = fields[0]
            _expect(vid in durations, path, where,
                    f'video {vid} has no duration in {self.duration_file}')
            yield RawQuery(vid, durations[vid], _number(fields[1], path, where),
                           _number(fields[2], path, where), sentence, where)


@TASK_UTILS.register_module()
class ActivityNetCaptionsReader:
    """ActivityNet Captions' original ``{video_id: {duration, timestamps, sentences}}`` files."""

    def __call__(self, path: str) -> Iterator[RawQuery]:
        data = _load_json(path)
        _expect(isinstance(data, dict), path, 'top level', 'expected an object keyed by video')
        for vid, entry in data.items():
            entry = _paired(path, vid, entry, ('duration', 'timestamps', 'sentences'))
            for j, (stamp, sentence) in enumerate(zip(entry['timestamps'], entry['sentences'])):
                where = f'video {vid} annotation {j}'
                start, end = _pair(path, where, stamp)
                yield RawQuery(vid, entry['duration'], start, end, sentence, where)


def _number(value: Any, path: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    _expect(
        math.isfinite(number) and not isinstance(value, bool), path, where,
        f'expected a number, got {value!r}')
    return number


#: Unicode categories read as a space in sentences: line/paragraph separators (U+2028...),
#: format characters (zero-width space, joiners, byte-order mark) and control characters.
_SPACE_CATEGORIES = ('Zl', 'Zp', 'Cf', 'Cc')


def clean_sentence(sentence: str) -> str:
    """``sentence`` with separator, format and control characters read as spaces, stripped."""
    return ''.join(' ' if unicodedata.category(ch) in _SPACE_CATEGORIES else ch
                   for ch in sentence).strip()


def _has_word(sentence: str) -> bool:
    return any(unicodedata.category(ch)[0] in 'LN' for ch in sentence)


def _check_video_id(raw: RawQuery, path: str) -> None:
    _expect(isinstance(raw.video_id, str) and raw.video_id != '', path, raw.where,
            f'bad video id {raw.video_id!r}')
    try:
        check_plain_name(raw.video_id, 'video id')
    except UnsafeNameError as exc:
        raise UnsafeVideoIdError(f'{path}: {raw.where}: {exc}') from None


def validate_query(raw: RawQuery, path: str, end_tolerance: float) -> Dict[str, Any]:
    """Check one query and return its cleaned fields (times in seconds).

    An end up to ``end_tolerance`` seconds past the video's end is clipped to the duration (the
    released files hold such rounding overshoots); anything else outside the video, a start not
    before the end, or a sentence without a letter or digit is an :class:`AnnotationError`
    naming file and record. Video ids must be plain file names (:class:`UnsafeVideoIdError`).
    Sentences are cleaned by :func:`clean_sentence`.
    """
    _check_video_id(raw, path)
    where = raw.where if raw.video_id in raw.where else f'{raw.where} (video {raw.video_id})'
    duration = _number(raw.duration, path, where)
    start = _number(raw.start, path, where)
    end = _number(raw.end, path, where)
    _expect(duration > 0, path, where, f'duration must be positive, got {duration}')
    _expect(start < end, path, where, f'start {start} s is not before end {end} s')
    _expect(0 <= start < duration and end <= duration + end_tolerance, path, where,
            f'moment [{start}, {end}] s is outside the video [0, {duration}] s')
    _expect(isinstance(raw.sentence, str), path, where,
            f'the sentence must be a string, got {raw.sentence!r}')
    sentence = clean_sentence(raw.sentence)
    _expect(sentence != '', path, where, f'empty sentence {raw.sentence!r}')
    _expect(_has_word(sentence), path, where,
            f'the sentence {raw.sentence!r} has no word (no letter or digit)')
    return dict(
        video_id=raw.video_id,
        duration=duration,
        timestamp=[start, min(end, duration)],
        sentence=sentence)


def read_queries(path: str,
                 reader: Optional[Any] = None,
                 end_tolerance: float = 2.0,
                 skip_invalid: bool = False) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Read, validate and number the queries of an annotation file.

    Each query gets ``ann_index`` (its position among its video's queries in file order, counting
    skipped ones so ids never shift) and ``query_id = '<video_id>#<ann_index>'``.

    Args:
        path: Annotation file.
        reader: A reader object or config dict (default ``JsonListReader``).
        end_tolerance: Seconds an end may overshoot the video before it is an error.
        skip_invalid: Skip invalid records (reported in the second return value) instead of
            raising; a video id that is not a plain name is always an error.

    Returns:
        tuple: ``(queries, skipped)``: the valid queries, and one message per skipped record.
    """
    if reader is None or isinstance(reader, dict):
        reader = TASK_UTILS.build(reader or dict(type='JsonListReader'))
    counters: Dict[str, int] = {}
    queries, skipped = [], []
    for raw in reader(path):
        index = counters.get(raw.video_id, 0)
        counters[raw.video_id] = index + 1
        try:
            query = validate_query(raw, path, end_tolerance)
        except AnnotationError as exc:
            if not skip_invalid or isinstance(exc, UnsafeVideoIdError):
                raise
            skipped.append(str(exc))
            continue
        query.update(ann_index=index, query_id=f'{raw.video_id}#{index}')
        queries.append(query)
    if not queries:
        raise AnnotationError(f'{path}: no valid query in the file')
    return queries, skipped
