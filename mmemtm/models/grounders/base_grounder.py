"""Base class of every grounding model (teachers, students, baselines), and the teacher-output
contract through which a trained grounder acts as an offline teacher of EMTM (``docs/method.md``
§4.2)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Mapping, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel

from mmemtm.structures import GroundingDataSample

#: The teacher-output contract: for each ``kind``, the keys :meth:`BaseGrounder.teacher_outputs`
#: returns besides ``kind`` (see that method for their shapes and units). The teacher-curve
#: converters (``mmemtm.models.converters.output_to_curves``, one per kind) read exactly these keys.
TEACHER_OUTPUT_KEYS: Dict[str, Tuple[str, ...]] = {
    'span': ('start_logits', 'end_logits', 'valid_len'),
    'map2d': ('score_map', 'valid_len'),
    'proposals': ('proposals', 'scores'),
}

#: What :meth:`BaseGrounder.teacher_outputs` returns: ``kind`` (a str) and the tensors of that kind.
TeacherOutputs = Dict[str, Union[str, torch.Tensor]]

#: Slack of the range checks on proposals (fractions of the video) in
#: :func:`check_teacher_outputs`.
_FRACTION_TOLERANCE = 1e-4


def check_teacher_outputs(outputs: Mapping[str, Union[str, torch.Tensor]],
                          batch_size: Optional[int] = None) -> str:
    """Check ``outputs`` against the teacher-output contract and return their ``kind``.

    Checks the kind, the keys of :data:`TEACHER_OUTPUT_KEYS`, the shapes declared by
    :meth:`BaseGrounder.teacher_outputs`, one batch size ``B`` throughout (``batch_size`` if
    given), integer ``valid_len`` in ``[1, L]`` (``[1, T]`` for maps), and proposals that are
    fractions of the video with ``start <= end`` and non-negative scores.

    Raises:
        ValueError: naming the first violation.
    """
    kind = outputs.get('kind')
    if kind not in TEACHER_OUTPUT_KEYS:
        raise ValueError(f'teacher outputs have kind={kind!r}; expected one of '
                         f'{sorted(TEACHER_OUTPUT_KEYS)}')
    missing = [k for k in TEACHER_OUTPUT_KEYS[kind] if not torch.is_tensor(outputs.get(k))]
    if missing:
        raise ValueError(f'{kind} teacher outputs lack the tensors {missing}')
    shapes = {k: tuple(outputs[k].shape) for k in TEACHER_OUTPUT_KEYS[kind]}

    def shape_error(expected: str) -> ValueError:
        return ValueError(f'{kind} teacher outputs must be {expected}, got shapes {shapes}')

    if kind == 'span':
        start = shapes['start_logits']
        if len(start) != 2 or shapes['end_logits'] != start or shapes['valid_len'] != start[:1]:
            raise shape_error('start_logits [B, L], end_logits [B, L], valid_len [B]')
        grid = start[1]
    elif kind == 'map2d':
        score_map = shapes['score_map']
        if (len(score_map) != 3 or score_map[1] != score_map[2]
                or shapes['valid_len'] != score_map[:1]):
            raise shape_error('score_map [B, T, T], valid_len [B]')
        grid = score_map[1]
    else:
        props = shapes['proposals']
        if len(props) != 3 or props[2] != 2 or shapes['scores'] != props[:2]:
            raise shape_error('proposals [B, K, 2], scores [B, K]')
        grid = None
    batch = next(iter(shapes.values()))[0]
    if batch_size is not None and batch != batch_size:
        raise ValueError(f'{kind} teacher outputs hold {batch} samples, expected {batch_size}')
    if grid is not None:
        valid_len = outputs['valid_len']
        if valid_len.dtype.is_floating_point or valid_len.dtype.is_complex:
            raise ValueError(f'valid_len must be an integer tensor, got {valid_len.dtype}')
        if batch and not (int(valid_len.min()) >= 1 and int(valid_len.max()) <= grid):
            raise ValueError(f'valid_len must lie in [1, {grid}], got {valid_len.tolist()}')
    else:
        props, scores = outputs['proposals'], outputs['scores']
        tol = _FRACTION_TOLERANCE
        if props.numel() and (bool((props < -tol).any()) or bool((props > 1 + tol).any())
                              or bool((props[..., 0] > props[..., 1] + tol).any())):
            raise ValueError('proposals must be fractions of the video (0..1) with start <= end')
        if scores.numel() and bool((scores < 0).any()):
            raise ValueError('proposal scores must be non-negative')
    return kind


class BaseGrounder(BaseModel, metaclass=ABCMeta):
    """A model that grounds sentences in videos.

    ``inputs`` is the dict made by :class:`GroundingDataPreprocessor` (``video`` ``[B, L, D]``,
    ``video_mask`` ``[B, L]``, ``words`` ``[B, N]``, ``word_mask`` ``[B, N]``, ``chars``
    ``[B, N, C]``, optional ``teacher_curves`` and ``targets``).

    Subclasses implement :meth:`loss` and :meth:`predict_spans`; predictions are turned into
    moments in seconds here.

    **Teacher-output contract.** A grounder that can act as an offline teacher of EMTM also
    implements :meth:`teacher_outputs`: its raw outputs on a batch, in one of three kinds
    (``'span'``, ``'map2d'``, ``'proposals'``, keys in :data:`TEACHER_OUTPUT_KEYS`), which the
    teacher-curve converter of that kind turns into start/end curves (``docs/method.md`` §4.2) and
    which ``tools/dump_teacher_curves.py`` stores per query. ``SeqPANGrounder`` (``span``),
    ``TAN2DGrounder`` (``map2d``), ``SCDMGrounder`` (``proposals``), ``SpanPriorGrounder`` and
    ``EMTM`` (its student, ``span``) implement it; :func:`check_teacher_outputs` checks a result.

    Args:
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    def forward(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[GroundingDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], List[GroundingDataSample],
                                               Dict[str, torch.Tensor]]:
        if mode == 'loss':
            if 'targets' not in inputs:
                raise ValueError('training needs targets: add BuildGroundingTargets to the '
                                 'pipeline')
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.predict_spans(inputs)
        raise ValueError(f'invalid mode {mode!r}; expected "loss", "predict" or "tensor"')

    @abstractmethod
    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """Dict of loss terms (mmengine sums the keys containing ``loss``)."""

    @abstractmethod
    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked clip spans: ``spans`` ``[B, K, 2]`` (inclusive indices, long) and ``scores``
        ``[B, K]``; optionally ``start_prob`` / ``end_prob`` ``[B, L]``."""

    def predict_one_video(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked spans of ``Q`` queries about ONE video (output as :meth:`predict_spans`).

        ``inputs`` holds ``video`` ``[1, L, Dv]`` and ``video_mask`` ``[1, L]`` once, and
        ``words`` ``[Q, N]``, ``chars`` ``[Q, N, C]``, ``word_mask`` ``[Q, N]``. This default
        repeats the video for every query; models whose video encoding does not depend on the
        query override it to encode the video once.
        """
        queries = inputs['words'].shape[0]
        return self.predict_spans(dict(inputs, video=inputs['video'].expand(queries, -1, -1),
                                       video_mask=inputs['video_mask'].expand(queries, -1)))

    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> TeacherOutputs:
        """Raw outputs on a batch for distillation (the teacher-output contract).

        ``inputs`` is a batch of :class:`GroundingDataPreprocessor` (as for :meth:`predict_spans`;
        no ``targets`` needed). Implementations run without gradients (``@torch.no_grad()``) and
        are called in eval mode. The result is a dict with ``kind`` and the tensors of that kind
        (``B`` queries; ``L`` clips of the batch grid, of which the first ``v_len[b]`` are valid):

        * ``kind='span'`` (SeqPAN, the EMTM student, the span prior): ``start_logits`` and
          ``end_logits`` ``[B, L]`` float, logits of the start/end clip on the batch's clip grid
          (values at padded clips are meaningless), and ``valid_len`` ``[B]`` long, the valid
          clips ``v_len`` of each query;
        * ``kind='map2d'`` (2D-TAN): ``score_map`` ``[B, T, T]`` float on the teacher's own
          ``T``-cell grid, entry ``[b, i, j]`` the score (any range, higher is better) of the
          moment from cell ``i`` to cell ``j``, only ``i <= j < valid_len[b]`` meaningful; and
          ``valid_len`` ``[B]`` long, the valid cells (cell ``i`` covers about the ``i``-th of
          ``valid_len[b]`` equal parts of the video, exactly when it has at most ``T`` clips);
        * ``kind='proposals'`` (SCDM): ``proposals`` ``[B, K, 2]`` float, moments ``(start,
          end)`` as **fractions of the video** (``0 <= start <= end <= 1``), and ``scores``
          ``[B, K]`` float ``>= 0``, their confidences (rows scored 0 act as padding). Proposals
          have no clip grid, hence no ``valid_len``; the caller chooses the grid they are drawn
          on.

        Raises:
            NotImplementedError: this grounder cannot act as a teacher.
        """
        raise NotImplementedError(f'{type(self).__name__} does not implement '
                                  'teacher_outputs(inputs): it cannot act as a teacher')

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: List[GroundingDataSample]) -> List[GroundingDataSample]:
        """Moments in seconds: sets ``pred_moments`` ``[K, 2]`` and ``pred_scores`` ``[K]``."""
        out = self.predict_spans(inputs)
        v_lens = inputs['video_mask'].sum(1).long()
        for b, sample in enumerate(data_samples):
            v_len = int(v_lens[b])
            moments, scores = spans_to_moments(out['spans'][b], out['scores'][b], v_len,
                                               float(sample.duration))
            sample.pred_moments = moments
            sample.pred_scores = scores
            for key in ('start_prob', 'end_prob'):
                if key in out:
                    sample.set_field(out[key][b, :v_len].detach().cpu(), key)
        return data_samples


def spans_to_moments(spans: torch.Tensor, scores: torch.Tensor, v_len: int,
                     duration: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Ranked clip spans ``[K, 2]`` of a ``v_len``-clip grid -> moments ``[K', 2]`` in seconds
    and their scores ``[K']`` (on the CPU), dropping spans outside the video."""
    keep = (spans[:, 0] <= spans[:, 1]) & (spans[:, 1] < v_len)
    spans, scores = spans[keep], scores[keep]
    clip = duration / v_len
    moments = torch.stack([spans[:, 0].float() * clip, (spans[:, 1] + 1).float() * clip], dim=-1)
    return moments.detach().cpu(), scores.detach().cpu()
