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
* ``CSVReader``: a CSV with the columns ``video,start,end,sentence`` (seconds), optionally
  ``duration`` and ``split`` (your own data set, ``docs/your_own_dataset.md``); without a
  ``duration`` column, durations are read from the video files.

Without a reader config, ``.csv`` files are read by ``CSVReader`` and all others by
``JsonListReader`` (:func:`default_reader`).

Readers are registered in mmaction's ``TASK_UTILS`` registry.
"""
import csv
import hashlib
import math
import os.path as osp
import unicodedata
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from mmaction.registry import TASK_UTILS
from mmemtm.utils import JsonFileError, UnsafeNameError, check_plain_name, read_json
from .video_files import (VideoFileError, find_video_file, strip_video_extension,
                          video_duration)


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
    """Lines ended by ``\\n``, ``\\r\\n`` or ``\\r`` (old Mac files) only: a U+2028 inside a
    sentence does not split it (``str.splitlines`` would)."""
    return text.replace('\r\n', '\n').replace('\r', '\n').split('\n')


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


#: Columns every row of a :class:`CSVReader` file has, and the optional ones.
CSV_COLUMNS = ('video', 'start', 'end', 'sentence')
CSV_OPTIONAL_COLUMNS = ('duration', 'split')
#: Split rule of :class:`CSVReader` files without a ``split`` column: fractions of the videos.
DEFAULT_SPLIT_FRACTIONS = dict(train=0.8, val=0.1, test=0.1)


class CSVRow(NamedTuple):
    """A data row of a CSV file: its line number and its cells by (lower-case) column name."""
    line: int
    cells: Dict[str, str]


@TASK_UTILS.register_module()
class CSVReader:
    """A CSV file with a header row: ``video,start,end,sentence`` and optional ``duration`` and
    ``split`` columns; times in seconds. Column names are matched ignoring case and surrounding
    spaces; a sentence that holds the delimiter must be quoted (``"a man, then a dog"``).

    ``video`` is the video id (the file stem of the video and of its ``<video_id>.npy``
    features); a cell with a video ending (``3MSZA.mp4``) is read as its stem.

    Durations (seconds): the ``duration`` column when the file has one; otherwise the duration of
    each video file ``<video_id>.<ext>`` in ``video_folder`` (read with decord: last frame's time
    plus one frame interval, the feature extractors' definition).

    Splits: with ``split`` given, only the rows of that split are read. With a ``split`` column,
    those whose cell equals ``split``; without one, the split rule assigns whole videos to the
    splits of ``split_fractions`` by a stable hash of their id (the same on every machine).

    Args:
        split: The split to read (e.g. ``'train'``); None reads every row.
        video_folder: Folder of the videos, for the durations when the file has no ``duration``
            column (default: the ``videos`` folder beside the CSV file).
        split_fractions: ``{split: fraction of the videos}`` of the split rule, fractions summing
            to 1 (default ``dict(train=0.8, val=0.1, test=0.1)``).
        delimiter: The cell delimiter (``','``; ``'\\t'`` for TSV files).
    """

    def __init__(self,
                 split: Optional[str] = None,
                 video_folder: Optional[str] = None,
                 split_fractions: Optional[Dict[str, float]] = None,
                 delimiter: str = ',') -> None:
        self.split = split
        self.video_folder = video_folder
        self.split_fractions = dict(split_fractions or DEFAULT_SPLIT_FRACTIONS)
        self.delimiter = delimiter
        _check_split_fractions(self.split_fractions)

    def __call__(self, path: str) -> Iterator[RawQuery]:
        header, rows = _read_csv_rows(path, self.delimiter)
        keep = self._split_filter(path, header, rows)
        durations = self._durations(path, header)
        kept = 0
        for row in rows:
            vid = strip_video_extension(row.cells['video'].strip())
            if not keep(vid, row):
                continue
            kept += 1
            where = f'line {row.line}'
            yield RawQuery(vid, durations(vid, row), row.cells['start'], row.cells['end'],
                           row.cells['sentence'], where)
        _expect(kept > 0 or self.split is None, path, f'split {self.split!r}',
                'no video falls into it by the split rule (fractions '
                f'{self.split_fractions}); add a "split" column to the file')

    def video_folder_of(self, path: str) -> str:
        """The folder the durations of the videos of ``path`` are read from."""
        return self.video_folder or osp.join(osp.dirname(path), 'videos')

    def inputs(self, path: str) -> List[Tuple[str, str]]:
        """``(kind, path)`` of what reading ``path`` needs besides it: the video folder when the
        file has no ``duration`` column (the preflight of the tools checks them)."""
        header, _ = _read_csv_rows(path, self.delimiter, header_only=True)
        return [] if 'duration' in header else [('videos', self.video_folder_of(path))]

    def _split_filter(self, path: str, header: Sequence[str],
                      rows: Sequence[CSVRow]) -> Callable[[str, CSVRow], bool]:
        if self.split is None:
            return lambda vid, row: True
        if 'split' in header:
            values = {row.cells['split'].strip() for row in rows}
            _expect(self.split in values, path, 'split column',
                    f'no row of split {self.split!r} (the column holds '
                    f'{", ".join(repr(v) for v in sorted(values))})')
            return lambda vid, row: row.cells['split'].strip() == self.split
        _expect(self.split in self.split_fractions, path, 'split rule',
                f'the file has no "split" column and split {self.split!r} is none of the '
                f'split_fractions {sorted(self.split_fractions)}')
        return lambda vid, row: split_of_video(vid, self.split_fractions) == self.split

    def _durations(self, path: str, header: Sequence[str]) -> Callable[[str, CSVRow], Any]:
        """``duration(video_id, row)``: the row's ``duration`` cell, or its video's duration."""
        if 'duration' in header:
            return lambda vid, row: row.cells['duration']
        folder = self.video_folder_of(path)
        _expect(osp.isdir(folder), path, 'header',
                f'no "duration" column, and the folder of the videos to read the durations '
                f'from, {folder}, does not exist (set the reader\'s video_folder or add a '
                '"duration" column)')
        return lambda vid, row: _video_duration(path, f'line {row.line}', folder, vid)


def _check_split_fractions(fractions: Dict[str, float]) -> None:
    values = list(fractions.values())
    if (not values or any(not isinstance(v, (int, float)) or not 0 <= v <= 1 for v in values)
            or abs(sum(values) - 1) > 1e-6):
        raise ValueError(f'CSVReader: split_fractions must be fractions summing to 1, got '
                         f'{fractions}')


def split_of_video(video_id: str, fractions: Dict[str, float]) -> str:
    """The split the split rule assigns ``video_id`` to: a stable hash of the id (the first 8
    bytes of the SHA-1 of its UTF-8 bytes, mapped to [0, 1)) falls into the splits' fractions in
    their order."""
    digest = hashlib.sha1(video_id.encode('utf-8', 'surrogatepass')).digest()
    point = int.from_bytes(digest[:8], 'big') / 2**64
    total = 0.0
    for name, fraction in fractions.items():
        total += fraction
        if point < total:
            return name
    return name


def _video_duration(path: str, where: str, folder: str, vid: str) -> Any:
    """The duration of the video file of ``vid``; an id that is no plain name is returned as
    None (:func:`validate_query` rejects the id first)."""
    try:
        check_plain_name(vid, 'video id')
    except UnsafeNameError:
        return None
    video = find_video_file(folder, vid)
    _expect(video is not None, path, f'{where} (video {vid})',
            f'unknown video: no video file {vid}.<ext> in {folder} (the durations are read '
            'from the videos when the file has no "duration" column)')
    try:
        return video_duration(video)
    except (VideoFileError, OSError) as exc:
        raise AnnotationError(f'{path}: {where} (video {vid}): {exc}') from exc


def _read_csv_rows(path: str, delimiter: str,
                   header_only: bool = False) -> Tuple[List[str], List[CSVRow]]:
    """The normalised header and the non-blank data rows (none if ``header_only``) of a CSV
    file."""
    if not osp.isfile(path):
        raise AnnotationError(f'{path}: annotation file does not exist')
    try:
        with open(path, encoding='utf-8-sig', newline='') as f:
            reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True, strict=True)
            lines = []
            for cells in reader:
                if any(c.strip() for c in cells):
                    lines.append((reader.line_num, cells))
                    if header_only:
                        break
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnnotationError(f'{path}: unreadable annotation file ({exc})') from exc
    _expect(bool(lines), path, 'header', f'the file is empty; expected the header '
            f'{",".join(CSV_COLUMNS)}')
    header = [name.strip().lower() for name in lines[0][1]]
    _check_csv_header(path, header)
    rows = []
    for line, cells in lines[1:]:
        _expect(len(cells) == len(header), path, f'line {line}',
                f'{len(cells)} cells, but the header has {len(header)} columns (a sentence '
                f'that holds the delimiter {delimiter!r} must be in double quotes)')
        row = CSVRow(line, dict(zip(header, cells)))
        rows.append(row)
    return header, rows


def _check_csv_header(path: str, header: List[str]) -> None:
    twice = sorted({name for name in header if header.count(name) > 1 and name})
    _expect(not twice, path, 'header', f'column(s) {", ".join(twice)} appear twice')
    missing = [name for name in CSV_COLUMNS if name not in header]
    _expect(not missing, path, 'header',
            f'missing column(s) {", ".join(missing)} (the header has {", ".join(header)}; '
            f'needed: {", ".join(CSV_COLUMNS)}; optional: {", ".join(CSV_OPTIONAL_COLUMNS)})')


def default_reader(path: str) -> dict:
    """The reader config of an annotation file read without one: ``CSVReader`` for ``.csv``
    files, ``JsonListReader`` otherwise."""
    return dict(type='CSVReader' if path.lower().endswith('.csv') else 'JsonListReader')


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
        reader: A reader object or config dict (default: :func:`default_reader`).
        end_tolerance: Seconds an end may overshoot the video before it is an error.
        skip_invalid: Skip invalid records (reported in the second return value) instead of
            raising; a video id that is not a plain name is always an error.

    Returns:
        tuple: ``(queries, skipped)``: the valid queries, and one message per skipped record.
    """
    if reader is None or isinstance(reader, dict):
        reader = TASK_UTILS.build(reader or default_reader(path))
    counters: Dict[str, int] = {}
    durations: Dict[str, Tuple[float, str]] = {}
    queries, skipped = [], []
    for raw in reader(path):
        index = counters.get(raw.video_id, 0)
        counters[raw.video_id] = index + 1
        try:
            query = validate_query(raw, path, end_tolerance)
            first, first_where = durations.setdefault(raw.video_id,
                                                      (query['duration'], raw.where))
            _expect(query['duration'] == first, path,
                    raw.where if raw.video_id in raw.where
                    else f'{raw.where} (video {raw.video_id})',
                    f'duration {query["duration"]} s differs from the {first} s of '
                    f'{first_where} (one video has one duration)')
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
