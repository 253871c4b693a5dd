"""Loading of what a query needs from disk: pre-extracted clip features and offline teachers'
curves."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmemtm.structures.curve_ops import (NORMALIZE_MODES, RESAMPLE_MODES, change_curve_grid,
                                         normalize_curves)
from ..curve_file import (REFERENCE_KIND, TeacherCurveError, TeacherCurveFile,
                          open_teacher_curves)
from ..feature_store import get_feature_store


@TRANSFORMS.register_module()
class LoadClipFeatures(BaseTransform):
    """Load a video's clip features.

    Required keys: ``video_id``, ``feature_path`` (folder of ``.npy`` files or HDF5 file).
    Added keys: ``video_feats`` (``[n_clips, dim]`` float32), ``num_clips``.

    Args:
        feature_dim: Expected feature dimension; a mismatch is an error naming the file.
    """

    def __init__(self, feature_dim: Optional[int] = None) -> None:
        self.feature_dim = feature_dim

    def transform(self, results: dict) -> dict:
        store = get_feature_store(results['feature_path'])
        feats = store.load_checked(results['video_id'], self.feature_dim)
        results['video_feats'] = feats
        results['num_clips'] = int(feats.shape[0])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(feature_dim={self.feature_dim})'


@TRANSFORMS.register_module()
class LoadTeacherCurves(BaseTransform):
    """Read each teacher's curves of the query and move them onto the query's clip grid.

    Each file's curves ``[2, L_t]`` (on the teacher's own valid grid) are moved to the ``v_len``
    valid clips (``resample``), THEN normalised there (``normalize``), so that every teacher's
    curve has the same mass on the student's grid whatever its own grid (a curve normalised on
    16 cells and interpolated to 64 clips would weigh 4 times more in a mixture); the data
    preprocessor later zero-pads them to the batch length. Files are opened lazily, once per
    process (data-loader worker).

    Curves from a file in the reference's list format are stored at the teacher's padded length
    ``L_t``: they are cropped to the clips the teacher saw, ``min(num_clips, L_t)`` (``num_clips``:
    the video's clip count before :class:`DownsampleClips`), before the grid change.

    Required keys: ``query_id``, ``video_id``, ``sentence``, ``v_len`` and ``num_clips`` (after
    :class:`DownsampleClips`). Added keys: ``teacher_curves`` float32 ``[N, 2, v_len]``, in the
    order of ``files`` (the teacher slots), and ``aggregator_curves`` (the same of
    ``aggregator_files``) when those are given.

    Args:
        files: One entry per teacher: the path of an mmemtm teacher curve file, or
            ``dict(path=..., ann_file=..., reader=..., trust=False)`` for a file in the EMTM
            reference list format (``ann_file``: the annotation file whose order the list
            follows; ``trust=True`` unpickles it fully, for a file you trust that holds more
            than arrays and tensors).
        aggregator_files: One entry per teacher slot, as ``files``: curves the teacher
            aggregator is fitted on instead of ``files`` (e.g. the teachers' out-of-fold curves,
            which look like their curves on unseen videos, while ``files`` hold the in-sample
            curves that are distilled). None: the aggregator is fitted on ``files``.
        check_sentence: Check that the sentence stored with the curves is the query's.
        resample: ``'spread'`` (default: each teacher position's value is shared among the
            clips its span covers, so a coarse-grid teacher's curve covers whole cells instead
            of reaching the student as a comb of zeros), ``'boundary'`` (starts land in the clip
            where they begin, ends in the clip where they finish, values summed: exact spans for
            decoding) or ``'linear'`` (the reference's align-corners interpolation, which
            shrinks moments and aliases finer grids).
        normalize: Rescaling on the student grid, one of ``NORMALIZE_MODES``: ``'sum'``
            (default, each curve a distribution over the valid clips) or None (as stored, the
            reference).

    A query missing from a file, or stored with another video or sentence, is a
    :class:`TeacherCurveError` naming the query and the file.
    """

    def __init__(self, files: Sequence[Union[str, dict]],
                 aggregator_files: Optional[Sequence[Union[str, dict]]] = None,
                 check_sentence: bool = True, resample: str = 'spread',
                 normalize: Optional[str] = 'sum') -> None:
        self.files = self._file_specs(files, 'files')
        self.aggregator_files = (None if aggregator_files is None else
                                 self._file_specs(aggregator_files, 'aggregator_files'))
        if self.aggregator_files is not None and len(self.aggregator_files) != len(self.files):
            raise ValueError(f'aggregator_files must give one file per teacher slot: '
                             f'{len(self.aggregator_files)} for {len(self.files)} files')
        if resample not in RESAMPLE_MODES or normalize not in NORMALIZE_MODES:
            raise ValueError(f'resample must be one of {RESAMPLE_MODES} and normalize one of '
                             f'{NORMALIZE_MODES}, got {resample!r} and {normalize!r}')
        self.check_sentence = check_sentence
        self.resample = resample
        self.normalize = normalize

    @staticmethod
    def _file_specs(files: Sequence[Union[str, dict]], name: str) -> List[dict]:
        if isinstance(files, (str, dict)) or len(files) == 0:
            raise ValueError(f'{name} must be a non-empty list of teacher files, got {files!r}')
        specs = [dict(path=f) if isinstance(f, str) else dict(f) for f in files]
        for spec in specs:
            unknown = set(spec) - {'path', 'ann_file', 'reader', 'trust'}
            if 'path' not in spec or unknown:
                raise ValueError(f'a teacher file entry needs "path" and may have "ann_file", '
                                 f'"reader" and "trust"; got {spec!r}')
        return specs

    def _open(self, spec: dict) -> TeacherCurveFile:
        return open_teacher_curves(spec['path'], spec.get('ann_file'), spec.get('reader'),
                                   spec.get('trust', False))

    def _curves(self, teacher: TeacherCurveFile, results: dict) -> np.ndarray:
        query_id = results['query_id']
        entry = teacher.entry(query_id)
        mismatch: List[str] = []
        if entry.video_id != results['video_id']:
            mismatch.append(f'video {entry.video_id!r} != {results["video_id"]!r}')
        if self.check_sentence and entry.sentence != results['sentence'].strip():
            mismatch.append(f'sentence {entry.sentence!r} != {results["sentence"]!r}')
        if mismatch:
            raise TeacherCurveError(
                f'{teacher.path}: the curves stored for query {query_id!r} belong to another '
                f'query ({"; ".join(mismatch)}): the file was made from another annotation file')
        if self.normalize in ('sum', 'max') and entry.curves.min() < 0:
            raise TeacherCurveError(
                f'{teacher.path}: query {query_id!r}: curves hold negative values '
                f'({entry.curves.min():.4g}), but normalize={self.normalize!r} needs '
                "non-negative scores (raw logits? use normalize='l2' or None)")
        curves = torch.from_numpy(entry.curves)
        if teacher.kind == REFERENCE_KIND:
            curves = curves[:, :self._reference_valid_len(teacher, results, curves.shape[1])]
        curves = change_curve_grid(curves, int(results['v_len']), self.resample)
        return normalize_curves(curves, self.normalize).numpy()

    @staticmethod
    def _reference_valid_len(teacher: TeacherCurveFile, results: dict, stored: int) -> int:
        """Clips the reference teacher saw: ``min(num_clips, L_t)`` of its padded curves."""
        if 'num_clips' not in results:
            raise TeacherCurveError(
                f'{teacher.path}: curves in the reference list format are padded to the '
                f"teacher's max_vlen; cropping them needs the video's clip count num_clips of "
                f'query {results.get("query_id")!r} (put LoadTeacherCurves after DownsampleClips)')
        return max(1, min(int(results['num_clips']), stored))

    def transform(self, results: dict) -> dict:
        if 'v_len' not in results:
            raise KeyError(f'LoadTeacherCurves needs the clip count v_len of query '
                           f'{results.get("query_id")!r}: put it after DownsampleClips')
        for key, specs in (('teacher_curves', self.files),
                           ('aggregator_curves', self.aggregator_files)):
            if specs is not None:
                curves = [self._curves(self._open(spec), results) for spec in specs]
                results[key] = np.stack(curves).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(files={[s["path"] for s in self.files]}, '
                f'check_sentence={self.check_sentence})')

