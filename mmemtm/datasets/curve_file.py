"""Teacher curve files: one teacher's unified start/end curves for every query of a split.

mmemtm's format (``.npz``, see ``docs/teacher_curves.md``) is keyed by the stable query id
``'<video_id>#<ann_index>'`` and stores each query's video id and sentence next to its curves, so
that a file can be checked against the dataset it is used with. Arrays:

* ``meta``: 0-d string, a JSON object ``{"format": "mmemtm-teacher-curves", "version": 1,
  "teacher": name, "kind": kind, "num_queries": Q, ...}`` (``converter``: the converter that
  made the curves, ``head`` in files written before it was renamed, read as ``converter``);
* ``query_ids``, ``video_ids``, ``sentences``: ``[Q]`` strings;
* ``offsets``: ``[Q + 1]`` int64; query ``q`` owns the columns ``offsets[q]:offsets[q + 1]`` of
* ``curves``: ``[2, sum_q L_q]`` float32 (row 0 start, row 1 end), each query's curves on the
  teacher's own valid grid (``L_q`` positions), ready to be resampled to any student grid.

The EMTM reference's format, a pickle of a list in the order of the training annotation file of
``(video_id, curves [2, L_t])`` tuples (torch tensors or arrays), is read as well: element ``i``
belongs to record ``i`` of the annotation file, whose video id must match. It is unpickled by
:func:`mmemtm.utils.load_data_pickle`, which refuses any object but arrays, tensors and plain
containers (no code in the file can run), unless the file is trusted (``trust=True``).
"""
import collections
import functools
import json
import os
import os.path as osp
import zipfile
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy as np

from mmaction.registry import TASK_UTILS
from .annotation_readers import clean_sentence
from mmemtm.utils import UntrustedPickleError, atomic_write, load_data_pickle
from mmemtm.utils.npy_files import NpyFileError, load_npz
from mmemtm.utils.safe_pickle import DataPickleTooLargeError

FORMAT_NAME = 'mmemtm-teacher-curves'
FORMAT_VERSION = 1
#: ``kind`` given to curves read from the reference's list format (their origin is unknown).
REFERENCE_KIND = 'reference'


class TeacherCurveError(ValueError):
    """A teacher curve file or one of its entries is invalid or missing; the message names it."""


class TeacherCurveEntry(NamedTuple):
    """One query's curves: ``curves`` ``[2, L]`` float32 on the teacher's valid grid."""
    query_id: str
    video_id: str
    sentence: str
    curves: np.ndarray


def _checked_curves(curves: Any, where: str) -> np.ndarray:
    if hasattr(curves, 'detach'):
        curves = curves.detach().cpu().numpy()
    try:
        array = np.asarray(curves, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise TeacherCurveError(f'{where}: curves are not numeric ({exc})') from exc
    if array.ndim != 2 or array.shape[0] != 2 or array.shape[1] < 1:
        raise TeacherCurveError(f'{where}: curves must be [2, L] with L >= 1 (start, end), got '
                                f'shape {array.shape}')
    if not np.isfinite(array).all():
        raise TeacherCurveError(f'{where}: curves contain NaN or inf')
    return array


def _require_float(curves: Any, where: str) -> None:
    """Curves read from a file must be floating point: integer curves are labels or indices,
    not scores."""
    if hasattr(curves, 'is_floating_point'):  # a torch tensor
        dtype, kind = curves.dtype, 'f' if curves.is_floating_point() else 'i'
    else:
        try:
            dtype = np.asarray(curves).dtype
        except (TypeError, ValueError):
            return  # not an array: _checked_curves names the problem
        kind = dtype.kind
    if kind != 'f':
        raise TeacherCurveError(f'{where}: curves must be floating point scores (probabilities '
                                f'or logits), got dtype {dtype}')


def save_teacher_curves(path: str, entries: Iterable[TeacherCurveEntry], teacher: str, kind: str,
                        extra_meta: Optional[Dict[str, Any]] = None) -> int:
    """Write one teacher's curves to ``path`` (``.npz``) atomically.

    Args:
        path: Output file.
        entries: One :class:`TeacherCurveEntry` per query (curves ``[2, L_q]``, any L_q >= 1).
        teacher: Teacher name (e.g. ``'SeqPAN'``).
        kind: Kind of the teacher's raw outputs (``'span'``, ``'map2d'``, ``'proposals'``...).
        extra_meta: More JSON-serialisable facts stored in ``meta`` (e.g. the checkpoint).

    Returns:
        int: Number of queries written.
    """
    ids, vids, sentences, blocks, seen = [], [], [], [], set()
    for entry in entries:
        where = f'{path}: query {entry.query_id!r}'
        if not all(isinstance(x, str) and x for x in entry[:3]):
            raise TeacherCurveError(f'{where}: query id, video id and sentence must be non-empty '
                                    f'strings, got {tuple(entry[:3])!r}')
        if entry.query_id in seen:
            raise TeacherCurveError(f'{where}: the query appears twice')
        seen.add(entry.query_id)
        blocks.append(_checked_curves(entry.curves, where))
        ids.append(entry.query_id)
        vids.append(entry.video_id)
        sentences.append(entry.sentence)
    if not ids:
        raise TeacherCurveError(f'{path}: no curves to write')
    offsets = np.concatenate([[0], np.cumsum([b.shape[1] for b in blocks])]).astype(np.int64)
    meta = dict(extra_meta or {}, format=FORMAT_NAME, version=FORMAT_VERSION, teacher=teacher,
                kind=kind, num_queries=len(ids))
    with atomic_write(path, 'wb') as f:
        np.savez(f, meta=np.array(json.dumps(meta)), query_ids=np.array(ids),
                 video_ids=np.array(vids), sentences=np.array(sentences), offsets=offsets,
                 curves=np.concatenate(blocks, axis=1))
    return len(ids)


def annotation_records(ann_file: str, reader: Optional[Any] = None) -> List[Tuple[str, str, str]]:
    """``(query_id, video_id, sentence)`` of every record of ``ann_file``, in file order.

    Invalid records are kept (they keep their place and number), with ids built as by
    :func:`mmemtm.datasets.read_queries`: ``'<video_id>#<n>'`` for the video's ``n``-th record.

    Args:
        ann_file: Annotation file.
        reader: Reader object or config (default ``JsonListReader``).
    """
    if reader is None or isinstance(reader, dict):
        reader = TASK_UTILS.build(reader or dict(type='JsonListReader'))
    counters: Dict[str, int] = {}
    records = []
    for raw in reader(ann_file):
        index = counters.get(raw.video_id, 0)
        counters[raw.video_id] = index + 1
        sentence = clean_sentence(raw.sentence) if isinstance(raw.sentence, str) else str(
            raw.sentence)
        records.append((f'{raw.video_id}#{index}', raw.video_id, sentence))
    return records


class TeacherCurveFile:
    """Random access by query id to a teacher curve file (mmemtm ``.npz`` or reference list).

    Args:
        path: The file.
        ann_file: Only for the reference list format: the annotation file whose record order
            the list follows.
        reader: Reader config of ``ann_file`` (default ``JsonListReader``).
        trust: Only for the reference list format: unpickle the file fully (it may hold any
            object and run code; only for files you trust), instead of arrays and tensors only.

    Attributes:
        teacher (str): Teacher name. kind (str): Kind of its raw outputs. source_format (str):
            ``'mmemtm'`` or ``'reference'``.
    """

    def __init__(self, path: str, ann_file: Optional[str] = None,
                 reader: Optional[Any] = None, trust: bool = False) -> None:
        if not osp.isfile(path):
            raise TeacherCurveError(f'teacher curve file {path} does not exist')
        self.path = path
        if zipfile.is_zipfile(path):
            self._load_npz()
        else:
            self._load_reference(ann_file, reader, trust)
        self._row = {qid: i for i, qid in enumerate(self.query_ids)}
        if len(self._row) != len(self.query_ids):
            dup = next(q for q, n in collections.Counter(self.query_ids).items() if n > 1)
            raise TeacherCurveError(f'{path}: query {dup!r} appears twice')

    def _load_npz(self) -> None:
        try:
            arrays = load_npz(self.path)
        except NpyFileError as exc:
            raise TeacherCurveError(str(exc)) from None
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise TeacherCurveError(f'{self.path}: unreadable teacher curve file ({exc})') from exc
        needed = ('meta', 'query_ids', 'video_ids', 'sentences', 'offsets', 'curves')
        missing = [k for k in needed if k not in arrays]
        if missing:
            raise TeacherCurveError(f'{self.path}: not a {FORMAT_NAME} file (arrays {missing} '
                                    'are missing)')
        try:
            meta = json.loads(str(arrays['meta']))
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            raise TeacherCurveError(f'{self.path}: bad meta ({exc})') from exc
        if not isinstance(meta, dict):
            raise TeacherCurveError(f'{self.path}: bad meta: expected a JSON object '
                                    f'{{"format": ..., "teacher": ...}}, got a '
                                    f'{type(meta).__name__}')
        if meta.get('format') != FORMAT_NAME or meta.get('version') != FORMAT_VERSION:
            raise TeacherCurveError(f'{self.path}: format {meta.get("format")!r} version '
                                    f'{meta.get("version")!r}, expected {FORMAT_NAME!r} version '
                                    f'{FORMAT_VERSION}')
        if 'head' in meta and 'converter' not in meta:  # a file written before the rename
            meta['converter'] = meta.pop('head')
        for key in ('teacher', 'kind'):
            if not isinstance(meta.get(key), str):
                raise TeacherCurveError(f'{self.path}: bad meta: "{key}" must be a string, got '
                                        f'{meta.get(key)!r} (meta keys: {", ".join(meta)})')
        self.meta = meta
        self.teacher, self.kind, self.source_format = meta['teacher'], meta['kind'], 'mmemtm'
        self.query_ids = arrays['query_ids'].tolist()
        self.video_ids = arrays['video_ids'].tolist()
        self.sentences = arrays['sentences'].tolist()
        self._offsets = arrays['offsets'].astype(np.int64)
        _require_float(arrays['curves'], self.path)
        self._curves = arrays['curves'].astype(np.float32, copy=False)
        num = len(self.query_ids)
        offsets = self._offsets
        if (len(self.video_ids) != num or len(self.sentences) != num or offsets.shape != (num + 1,)
                or self._curves.ndim != 2 or self._curves.shape[0] != 2 or offsets[0] != 0
                or offsets[-1] != self._curves.shape[1] or (np.diff(offsets) < 1).any()):
            raise TeacherCurveError(
                f'{self.path}: inconsistent arrays ({num} query ids, {len(self.video_ids)} video '
                f'ids, {len(self.sentences)} sentences, offsets {offsets.shape}, curves '
                f'{self._curves.shape})')
        self._check_finite()

    def _check_finite(self) -> None:
        finite = np.isfinite(self._curves).all(axis=0)
        if not finite.all():
            row = int(np.searchsorted(self._offsets, np.argmin(finite), side='right')) - 1
            raise TeacherCurveError(f'{self.path}: query {self.query_ids[row]!r}: curves contain '
                                    'NaN or inf')

    def _load_reference(self, ann_file: Optional[str], reader: Optional[Any],
                        trust: bool) -> None:
        if ann_file is None:
            raise TeacherCurveError(
                f'{self.path} is not an mmemtm teacher curve file (.npz); reading the EMTM '
                'reference list format needs the annotation file it follows (ann_file=...)')
        try:
            items = load_data_pickle(self.path, trust)
        except (UntrustedPickleError, DataPickleTooLargeError) as exc:
            raise TeacherCurveError(str(exc)) from None
        except Exception as exc:  # unpickling can raise almost anything on a bad file
            raise TeacherCurveError(f'{self.path}: unreadable reference teacher file '
                                    f'({type(exc).__name__}: {exc})') from exc
        if not isinstance(items, (list, tuple)):
            raise TeacherCurveError(f'{self.path}: expected a list of (video_id, curves [2, L]) '
                                    f'tuples, got {type(items).__name__}')
        records = annotation_records(ann_file, reader)
        if len(items) != len(records):
            raise TeacherCurveError(f'{self.path}: {len(items)} elements, but {ann_file} has '
                                    f'{len(records)} records (the list must follow its order)')
        blocks = []
        for i, (item, (qid, vid, _)) in enumerate(zip(items, records)):
            where = f'{self.path}: element {i}'
            if not (isinstance(item, (list, tuple)) and len(item) == 2):
                raise TeacherCurveError(f'{where}: expected a (video_id, curves) pair')
            if item[0] != vid:
                raise TeacherCurveError(f'{where}: video id {item[0]!r} does not match record '
                                        f'{i} of {ann_file} (expected {vid!r}, query {qid})')
            _require_float(item[1], f'{where} (query {qid})')
            blocks.append(_checked_curves(item[1], f'{where} (query {qid})'))
        self.teacher = osp.splitext(osp.basename(self.path))[0]
        self.kind, self.source_format = REFERENCE_KIND, 'reference'
        self.meta = dict(format='reference-list', teacher=self.teacher, kind=self.kind,
                         ann_file=ann_file)
        self.query_ids, self.video_ids, self.sentences = (list(x) for x in zip(*records))
        self._offsets = np.concatenate([[0], np.cumsum([b.shape[1] for b in blocks])])
        self._curves = np.concatenate(blocks, axis=1)

    def __len__(self) -> int:
        return len(self.query_ids)

    def __contains__(self, query_id: str) -> bool:
        return query_id in self._row

    def entry(self, query_id: str) -> TeacherCurveEntry:
        """The entry of ``query_id`` (curves ``[2, L]``, a copy)."""
        row = self._row.get(query_id)
        if row is None:
            raise TeacherCurveError(f'{self.path}: no curves for query {query_id!r} (teacher '
                                    f'{self.teacher}, {len(self)} queries)')
        start, end = self._offsets[row], self._offsets[row + 1]
        return TeacherCurveEntry(query_id, self.video_ids[row], self.sentences[row],
                                 self._curves[:, start:end].copy())

    def entries(self) -> Iterable[TeacherCurveEntry]:
        """Every entry, in file order."""
        return (self.entry(qid) for qid in self.query_ids)


@functools.lru_cache(maxsize=32)
def _open_cached(path: str, stamp: Tuple[int, int], ann_file: Optional[str],
                 reader_json: Optional[str], trust: bool) -> TeacherCurveFile:
    return TeacherCurveFile(path, ann_file, json.loads(reader_json) if reader_json else None,
                            trust)


def open_teacher_curves(path: str, ann_file: Optional[str] = None,
                        reader: Optional[dict] = None, trust: bool = False) -> TeacherCurveFile:
    """:class:`TeacherCurveFile` of ``path``, opened once per process (data-loader worker).

    The cache is keyed by the file's modification time and size too, so a rewritten file is
    read again. ``trust``: as for :class:`TeacherCurveFile` (reference list format only).
    """
    if not osp.isfile(path):
        raise TeacherCurveError(f'teacher curve file {path} does not exist')
    stat = os.stat(path)
    reader_json = json.dumps(reader, sort_keys=True) if reader else None
    return _open_cached(osp.abspath(path), (stat.st_mtime_ns, stat.st_size),
                        ann_file and osp.abspath(ann_file), reader_json, bool(trust))
