"""Attaching offline teachers' curves to training queries."""
from typing import List, Sequence, Union

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmemtm.models.heads.teacher_heads import resample_curves
from ..teacher_curves_file import TeacherCurveError, TeacherCurveFile, open_teacher_curves


@TRANSFORMS.register_module()
class LoadTeacherCurves(BaseTransform):
    """Read each teacher's curves of the query and resample them to the query's clip grid.

    Each file's curves ``[2, L_t]`` (on the teacher's own valid grid) are linearly resampled
    (``align_corners=True``, :func:`resample_curves`) to the ``v_len`` valid clips; the data
    preprocessor later zero-pads them to the batch length. Files are opened lazily, once per
    process (data-loader worker).

    Required keys: ``query_id``, ``video_id``, ``sentence``, ``v_len`` (after
    :class:`DownsampleClips`). Added keys: ``teacher_curves`` float32 ``[N, 2, v_len]``, in the
    order of ``files`` (the teacher slots).

    Args:
        files: One entry per teacher: the path of an mmemtm teacher curve file, or
            ``dict(path=..., ann_file=..., reader=...)`` for a file in the EMTM reference list
            format (``ann_file``: the annotation file whose order the list follows).
        check_sentence: Check that the sentence stored with the curves is the query's.

    A query missing from a file, or stored with another video or sentence, is a
    :class:`TeacherCurveError` naming the query and the file.
    """

    def __init__(self, files: Sequence[Union[str, dict]], check_sentence: bool = True) -> None:
        if isinstance(files, (str, dict)) or len(files) == 0:
            raise ValueError(f'files must be a non-empty list of teacher files, got {files!r}')
        self.files = [dict(path=f) if isinstance(f, str) else dict(f) for f in files]
        for spec in self.files:
            unknown = set(spec) - {'path', 'ann_file', 'reader'}
            if 'path' not in spec or unknown:
                raise ValueError(f'a teacher file entry needs "path" and may have "ann_file" and '
                                 f'"reader"; got {spec!r}')
        self.check_sentence = check_sentence

    def _open(self, spec: dict) -> TeacherCurveFile:
        return open_teacher_curves(spec['path'], spec.get('ann_file'), spec.get('reader'))

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
        return resample_curves(torch.from_numpy(entry.curves), int(results['v_len'])).numpy()

    def transform(self, results: dict) -> dict:
        if 'v_len' not in results:
            raise KeyError(f'LoadTeacherCurves needs the clip count v_len of query '
                           f'{results.get("query_id")!r}: put it after DownsampleClips')
        curves = [self._curves(self._open(spec), results) for spec in self.files]
        results['teacher_curves'] = np.stack(curves).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(files={[s["path"] for s in self.files]}, '
                f'check_sentence={self.check_sentence})')

