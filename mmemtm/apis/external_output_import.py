"""Teacher outputs produced elsewhere ("bring your own teacher") turned into a teacher curve file.

Accepted inputs (``.npz``, ``.pkl``/``.pickle``, ``.json``; layouts in ``docs/teacher_curves.md``):
a table of per-query columns, a mapping from query id to record, or a list of records. A record
holds the outputs of one query, by ``kind``:

* ``span``: ``start_logits`` ``[L]`` + ``end_logits`` ``[L]``, or ``logits`` ``[2, L]``;
  ``valid_len`` (clips the teacher saw; required unless ``unpadded``);
* ``map2d``: ``score_map`` ``[T, T]``; ``valid_len`` as for span;
* ``proposals``: ``proposals`` ``[K, 2]`` (fractions of the video) + ``scores`` ``[K]``;
* ``curves``: ``curves`` ``[2, L]``, already unified (stored as they are).

Records are keyed by ``query_id``, or by ``video_id`` + ``ann_index``, or by nothing (then they
follow the order of the annotation file's records). Outputs go through the teacher-curve converter
of their kind (or ``converter``); curves are stored on the teacher's valid grid.

Pickles are unpickled with :func:`mmemtm.utils.load_data_pickle`: only numpy arrays, torch
tensors and plain containers are accepted, so the file cannot run code, unless
``trust_pickle=True`` (a file you trust; any object, with a warning).
"""
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmemtm.datasets import read_queries
from mmemtm.datasets.curve_file import (TeacherCurveEntry, TeacherCurveError,
                                                 annotation_records, save_teacher_curves)
from mmemtm.models.converters import BaseCurveConverter, build_curve_converter
from mmemtm.utils import JsonFileError, UntrustedPickleError, load_data_pickle, read_json
from mmemtm.utils.npy_files import NpyFileError, load_npz
from mmemtm.utils.safe_pickle import DataPickleTooLargeError, check_data_size
from .curve_dumping import converter_config

#: Record fields that hold the outputs of each kind (any one group is enough).
PAYLOAD_FIELDS = {
    'span': ('start_logits', 'end_logits', 'logits', 'valid_len'),
    'map2d': ('score_map', 'valid_len'),
    'proposals': ('proposals', 'scores'),
    'curves': ('curves',),
}
KEY_FIELDS = ('query_id', 'video_id', 'ann_index')


def load_outputs(path: str, trust_pickle: bool = False) -> Any:
    """The raw content of an outputs file (dict of arrays, list or dict).

    Args:
        path: The file.
        trust_pickle: Unpickle a pickle fully (``--trust-pickle``) instead of arrays, tensors
            and plain containers only.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'teacher outputs file {path} does not exist')
    try:
        if path.endswith('.npz'):
            return load_npz(path)
        if path.endswith(('.pkl', '.pickle')):
            return load_data_pickle(path, trust_pickle, opt_in='--trust-pickle')
        if path.endswith('.json'):
            content = read_json(path)
            check_data_size(content, path)  # deep nesting that np.asarray would choke on
            return content
    except (UntrustedPickleError, DataPickleTooLargeError, JsonFileError, NpyFileError) as exc:
        raise TeacherCurveError(str(exc)) from None
    except Exception as exc:  # unpickling and parsing raise many types on a bad file
        raise TeacherCurveError(f'{path}: unreadable teacher outputs ({type(exc).__name__}: '
                                f'{exc})') from exc
    raise TeacherCurveError(f'{path}: unsupported extension (use .npz, .pkl/.pickle or .json)')


def _array(value: Any, where: str, name: str, ndim: int) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise TeacherCurveError(f'{where}: {name} is not numeric ({exc})') from exc
    if array.ndim != ndim or 0 in array.shape:
        raise TeacherCurveError(f'{where}: {name} must have {ndim} non-empty dimension(s), got '
                                f'shape {array.shape}')
    if not np.isfinite(array).all():
        raise TeacherCurveError(f'{where}: {name} contains NaN or inf')
    return array


def _valid_len(record: dict, where: str, length: int) -> torch.Tensor:
    valid = int(record.get('valid_len', length))
    if not 1 <= valid <= length:
        raise TeacherCurveError(f'{where}: valid_len {valid} is outside [1, {length}]')
    return torch.tensor([valid])


def span_outputs(record: dict, where: str) -> dict:
    """Batch-of-one span outputs from ``logits`` [2, L] or ``start_logits``/``end_logits`` [L]."""
    if 'logits' in record:
        logits = _array(record['logits'], where, 'logits', 2)
        if logits.shape[0] != 2:
            raise TeacherCurveError(f'{where}: logits must be [2, L] (start, end), got shape '
                                    f'{logits.shape}')
        start, end = logits
    elif 'start_logits' in record and 'end_logits' in record:
        start = _array(record['start_logits'], where, 'start_logits', 1)
        end = _array(record['end_logits'], where, 'end_logits', 1)
        if start.shape != end.shape:
            raise TeacherCurveError(f'{where}: start_logits {start.shape} and end_logits '
                                    f'{end.shape} differ in length')
    else:
        raise TeacherCurveError(f'{where}: span outputs need "start_logits" and "end_logits" '
                                f'([L] each) or "logits" ([2, L]); found {sorted(record)}')
    return dict(kind='span', start_logits=torch.from_numpy(start)[None],
                end_logits=torch.from_numpy(end)[None],
                valid_len=_valid_len(record, where, start.shape[0]))


def map2d_outputs(record: dict, where: str) -> dict:
    """Batch-of-one 2-D map outputs from ``score_map`` [T, T]."""
    if 'score_map' not in record:
        raise TeacherCurveError(f'{where}: map2d outputs need "score_map" ([T, T]); found '
                                f'{sorted(record)}')
    score_map = _array(record['score_map'], where, 'score_map', 2)
    if score_map.shape[0] != score_map.shape[1]:
        raise TeacherCurveError(f'{where}: score_map must be square [T, T], got {score_map.shape}')
    return dict(kind='map2d', score_map=torch.from_numpy(score_map)[None],
                valid_len=_valid_len(record, where, score_map.shape[0]))


def proposal_outputs(record: dict, where: str) -> dict:
    """Batch-of-one proposal outputs from ``proposals`` [K, 2] and ``scores`` [K]."""
    if 'proposals' not in record or 'scores' not in record:
        raise TeacherCurveError(f'{where}: proposal outputs need "proposals" ([K, 2], fractions '
                                f'of the video) and "scores" ([K]); found {sorted(record)}')
    props = _array(record['proposals'], where, 'proposals', 2)
    scores = _array(record['scores'], where, 'scores', 1)
    if props.shape[1] != 2 or scores.shape[0] != props.shape[0]:
        raise TeacherCurveError(f'{where}: expected proposals [K, 2] and scores [K], got '
                                f'{props.shape} and {scores.shape}')
    return dict(kind='proposals', proposals=torch.from_numpy(props)[None],
                scores=torch.from_numpy(scores)[None])


OUTPUTS_OF_KIND: Dict[str, Callable[[dict, str], dict]] = {
    'span': span_outputs, 'map2d': map2d_outputs, 'proposals': proposal_outputs}


def shorthand_record(value: Any, kind: str, where: str) -> dict:
    """A record from a bare array: ``[2, L]`` logits (span) or curves, ``[T, T]`` map, or
    ``[K, 3]`` proposals (start, end, score)."""
    if kind == 'proposals':
        rows = _array(value, where, 'proposals', 2)
        if rows.shape[1] != 3:
            raise TeacherCurveError(f'{where}: bare proposals must be [K, 3] rows of (start, '
                                    f'end, score), got shape {rows.shape}')
        return dict(proposals=rows[:, :2], scores=rows[:, 2])
    field = dict(span='logits', map2d='score_map', curves='curves')[kind]
    return {field: value}


def table_records(table: dict, kind: str, path: str) -> List[Tuple[str, dict]]:
    """Per-query records of a table of columns (each ``[Q, ...]`` or a list of Q items)."""
    columns = [k for k in table if k in PAYLOAD_FIELDS[kind] or k in KEY_FIELDS]
    unknown = sorted(set(table) - set(columns))
    if unknown:
        raise TeacherCurveError(f'{path}: unexpected columns {unknown} for kind {kind} '
                                f'(expected {list(PAYLOAD_FIELDS[kind])} and keys '
                                f'{list(KEY_FIELDS)})')
    counts = {k: len(table[k]) for k in columns}
    if len(set(counts.values())) != 1:
        raise TeacherCurveError(f'{path}: columns have different numbers of queries: {counts}')
    num = next(iter(counts.values()))
    return [(f'{path}: entry {i}', {k: _item(table[k][i]) for k in columns}) for i in range(num)]


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) or (
        isinstance(value, np.ndarray) and value.ndim == 0) else value


def input_records(content: Any, kind: str, path: str) -> List[Tuple[str, dict]]:
    """``(where, record)`` of every query in the input, in input order."""
    column_names = {f for fields in PAYLOAD_FIELDS.values() for f in fields} | set(KEY_FIELDS)
    if isinstance(content, dict) and any(k in column_names for k in content):
        return table_records(content, kind, path)
    if isinstance(content, dict):
        records = []
        for key, value in content.items():
            where = f'{path}: entry {key!r}'
            record = dict(value) if isinstance(value, dict) else shorthand_record(value, kind,
                                                                                  where)
            if record.setdefault('query_id', key) != key:
                raise TeacherCurveError(f'{where}: its query_id {record["query_id"]!r} differs '
                                        'from its key')
            records.append((where, record))
        return records
    if isinstance(content, (list, tuple)):
        records = []
        for i, item in enumerate(content):
            where = f'{path}: entry {i}'
            if isinstance(item, dict):
                records.append((where, dict(item)))
            elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
                records.append((where, dict(shorthand_record(item[1], kind, where),
                                            video_id=item[0])))
            else:
                raise TeacherCurveError(f'{where}: expected a record object or a (video_id, '
                                        f'array) pair, got {type(item).__name__}')
        return records
    raise TeacherCurveError(f'{path}: expected a table, an object keyed by query id or a list, '
                            f'got {type(content).__name__}')


def _key_mode(record: dict) -> str:
    if 'query_id' in record:
        return 'query_id'
    if 'ann_index' in record:
        return 'video_id + ann_index'
    return 'annotation order'


def key_records(records: List[Tuple[str, dict]], ann_records: List[Tuple[str, str, str]],
                ann_file: str) -> List[Tuple[str, str, dict]]:
    """``(query_id, where, record)``: each record matched to an annotation query.

    All records are keyed the same way: by ``query_id``, by ``video_id`` + ``ann_index``, or by
    nothing (record ``i`` is the annotation file's record ``i``); a given ``video_id`` must
    match the query's.
    """
    by_id = {qid: (vid, sentence) for qid, vid, sentence in ann_records}
    mode = _key_mode(records[0][1]) if records else 'annotation order'
    if mode == 'annotation order' and len(records) != len(ann_records):
        raise TeacherCurveError(f'{len(records)} unkeyed entries, but {ann_file} has '
                                f'{len(ann_records)} records: unkeyed entries must follow its '
                                'order one to one (or key them by query_id)')
    keyed, seen = [], set()
    for i, (where, record) in enumerate(records):
        if _key_mode(record) != mode:
            raise TeacherCurveError(f'{where}: keyed by {_key_mode(record)}, but the first '
                                    f'entry is keyed by {mode}; key all entries the same way')
        if mode == 'query_id':
            qid = str(record['query_id'])
        elif mode == 'annotation order':
            qid = ann_records[i][0]
        elif 'video_id' in record:
            qid = f'{record["video_id"]}#{int(record["ann_index"])}'
        else:
            raise TeacherCurveError(f'{where}: ann_index needs a video_id')
        if qid not in by_id:
            raise TeacherCurveError(f'{where}: query {qid!r} is not in {ann_file}')
        if 'video_id' in record and record['video_id'] != by_id[qid][0]:
            raise TeacherCurveError(f'{where}: video id {record["video_id"]!r} does not match '
                                    f'query {qid} of {ann_file} (expected {by_id[qid][0]!r})')
        if qid in seen:
            raise TeacherCurveError(f'{where}: query {qid!r} appears twice')
        seen.add(qid)
        keyed.append((qid, where, record))
    return keyed


def record_curves(record: dict, where: str, kind: str, converter: Optional[BaseCurveConverter],
                  grid_len: Optional[int]) -> np.ndarray:
    """Unified curves ``[2, L]`` of one record on the teacher's valid grid."""
    if converter is None:
        if 'curves' not in record:
            raise TeacherCurveError(f'{where}: curve inputs need "curves" ([2, L]); found '
                                    f'{sorted(record)}')
        curves = _array(record['curves'], where, 'curves', 2)
        if curves.shape[0] != 2:
            raise TeacherCurveError(f'{where}: curves must be [2, L], got {curves.shape}')
        return curves
    try:
        return converter.curves_on_teacher_grid(OUTPUTS_OF_KIND[kind](record, where),
                                           grid_len)[0].numpy()
    except TeacherCurveError:
        raise
    except ValueError as exc:  # the converter's checks (e.g. proposals outside the video)
        raise TeacherCurveError(f'{where}: {exc}') from exc


def check_valid_len(record: dict, where: str, kind: str, unpadded: bool) -> None:
    """Refuse span/map2d outputs that do not say how many of their positions are the video.

    Teachers pad to their ``max_vlen``; without ``valid_len`` the padding would be resampled
    into the video (the reference's bug), unless the user states the outputs are unpadded.
    """
    if kind in ('span', 'map2d') and 'valid_len' not in record and not unpadded:
        raise TeacherCurveError(
            f'{where}: {kind} outputs without valid_len: padded positions would be stretched into '
            'the video; store valid_len (the clips the teacher saw) with every record, or pass '
            'pass unpadded=True (--unpadded) if the outputs hold exactly those clips')


def import_teacher_outputs(source: str, kind: str, ann_file: str, out: str, name: str,
                           reader: Optional[dict] = None, converter: Optional[dict] = None,
                           grid_len: Optional[int] = None, unpadded: bool = False,
                           allow_partial: bool = False, trust_pickle: bool = False,
                           *, head: Optional[dict] = None) -> int:
    """Convert a teacher outputs file to a teacher curve file (written atomically).

    Args:
        source: Teacher outputs (``.npz``, ``.pkl``/``.pickle`` or ``.json``).
        kind: One of ``PAYLOAD_FIELDS`` (``'span'``, ``'map2d'``, ``'proposals'``, ``'curves'``).
        ann_file: Annotation file of the queries (the training split).
        out: Output teacher curve file (``.npz``).
        name: Teacher name stored in the file.
        reader: Reader config of ``ann_file`` (default ``JsonListReader``).
        converter: Teacher-curve converter config (default: the converter of ``kind``);
            stored as the file's ``converter`` meta information.
        grid_len: Clips to draw proposals on (required for ``kind='proposals'``).
        unpadded: Span/map2d records without ``valid_len`` hold exactly the clips the teacher
            saw; without it such records are refused.
        allow_partial: Accept inputs that miss some queries of ``ann_file``.
        trust_pickle: Unpickle a pickle input fully (it can run code).
        head: Old name of ``converter`` (deprecated).

    Returns:
        int: The number of queries written.
    """
    if kind == 'proposals' and grid_len is None:
        raise ValueError('kind proposals needs grid_len (the clip grid to draw them on)')
    converter = converter_config(converter, head)
    unified = None if kind == 'curves' else build_curve_converter(kind, converter)
    ann_records = annotation_records(ann_file, reader)
    records = input_records(load_outputs(source, trust_pickle), kind, source)
    keyed = key_records(records, ann_records, ann_file)
    valid_ids = [q['query_id'] for q in read_queries(ann_file, reader, skip_invalid=True)[0]]
    missing = sorted(set(valid_ids) - {qid for qid, _, _ in keyed})
    if missing and not allow_partial:
        raise TeacherCurveError(f'{source}: {len(missing)} queries of {ann_file} have no '
                                f'outputs, e.g. {missing[:5]} (allow_partial=True / '
                                '--allow-partial accepts this)')
    info = {qid: (vid, sentence) for qid, vid, sentence in ann_records}
    entries = []
    progress = ProgressBar(len(keyed))
    for qid, where, record in keyed:
        curves = record_curves(record, where, kind, unified, grid_len)
        check_valid_len(record, where, kind, unpadded)
        entries.append(TeacherCurveEntry(qid, info[qid][0], info[qid][1], curves))
        progress.update()
    meta = dict(source=osp.abspath(source), ann_file=osp.abspath(ann_file),
                converter=repr(unified) if unified is not None else None, grid_len=grid_len,
                missing=len(missing))
    return save_teacher_curves(out, entries, teacher=name, kind=kind, extra_meta=meta)
