"""Teacher-curve converters: heterogeneous teacher outputs as 1-D start/end curves.

EMTM distils from teachers of different families (docs/method.md §4.2; the paper calls these
converters "unified teacher heads", but they have no weights and are not part of any network:
they run when teacher outputs are dumped or imported). Each converter turns one
family's outputs (the teacher-output contract of ``BaseGrounder`` teachers) into curves
``[B, 2, L_out]`` (row 0 start, row 1 end) on a target clip grid:

* ``kind='span'`` (:class:`SpanCurveConverter`): start/end logits ``[B, L]``;
* ``kind='map2d'`` (:class:`Map2DCurveConverter`): start x end score maps ``[B, T, T]``;
* ``kind='proposals'`` (:class:`ProposalCurveConverter`): scored moments, fractions of the video.

Every sample is converted on its own: the teacher's curves are cropped to the teacher's valid
length BEFORE they are moved to the sample's target valid length, and positions past the target
valid length are zero. (The reference resampled the padded teacher length, stretching padding
into the video, and its proposal converter leaked curves from sample to sample.)

Grid changes (``resample``) rebin boundaries by default
(:func:`mmemtm.structures.curve_ops.rebin_boundary_curves`): a start on the teacher grid lands in the
target clip where that time begins, an end in the clip where it finishes, the convention of the
grounders' ``grid_spans_to_clip_spans``; so a 2-D map cell span lands on exactly the clip span the
map teacher itself reports. Normalisation happens AFTER the grid change, on the target grid, so
that a curve normalised to sum 1 sums to 1 on the clips it is used on.
"""
import math
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from mmemtm.structures.curve_ops import (NORMALIZE_MODES, RESAMPLE_MODES, change_curve_grid,
                                      normalize_curves, rebin_boundary_curves, resample_curves)
#: Registered converter of each teacher-output kind.
CONVERTER_OF_KIND = {
    'span': 'SpanCurveConverter',
    'map2d': 'Map2DCurveConverter',
    'proposals': 'ProposalCurveConverter',
}

Lengths = Union[torch.Tensor, Sequence[int]]


def gaussian_bumps(centres: torch.Tensor, weights: torch.Tensor, num_clips: int,
                   sigma: float) -> torch.Tensor:
    """Weighted sum of peak-1 Gaussian bumps rendered at the centres of ``num_clips`` clips.

    Positions live on the normalised axis ``x = 2 * f - 1`` of video fractions ``f``; clip ``i``
    is at ``x_i = 2 * (i + 0.5) / num_clips - 1``.

    Args:
        centres: ``[K]`` bump centres as fractions of the video (0..1).
        weights: ``[K]`` weights (confidences).
        num_clips: Clips of the target grid.
        sigma: Standard deviation on the normalised ``[-1, 1]`` axis (0.1 = 5 % of the video).

    Returns:
        torch.Tensor: ``[num_clips]`` curve, ``sum_k w_k exp(-(x_i - x_k)^2 / (2 sigma^2))``.
    """
    x = (torch.arange(num_clips, dtype=weights.dtype, device=weights.device) + 0.5) / num_clips
    diff = 2 * x[None] - 2 * centres[:, None].to(weights.dtype)
    return (weights[:, None] * torch.exp(-diff.square() / (2 * sigma ** 2))).sum(0)


def _as_lengths(lengths: Lengths, batch: int, name: str) -> List[int]:
    values = [int(v) for v in (lengths.tolist() if torch.is_tensor(lengths) else lengths)]
    if len(values) != batch:
        raise ValueError(f'{name} has {len(values)} entries for a batch of {batch}')
    if any(v < 1 for v in values):
        raise ValueError(f'{name} must be >= 1 for every sample, got {values}')
    return values


class BaseCurveConverter(BaseModule):
    """Common part of the teacher-curve converters (no parameters).

    ``forward(outputs, target_len, out_len=None)`` converts each sample ``b`` to curves on
    ``target_len[b]`` clips and returns ``[B, 2, L_out]`` float32 (row 0 start, row 1 end),
    zero past ``target_len[b]``; ``L_out = out_len`` or ``max(target_len)``.

    Args:
        normalize: Value-range option of the curves, one of :data:`NORMALIZE_MODES`, applied on
            the target grid.
        resample: Grid change, ``'boundary'`` (default, exact clip spans) or ``'linear'`` (the
            reference's align-corners interpolation).
        init_cfg: Initialisation config (unused, the converters have no weights).
    """

    #: The ``kind`` of teacher outputs this converter converts.
    kind: str = ''
    #: Keys the teacher outputs must hold.
    required_keys: Sequence[str] = ()
    #: Their layout, for error messages.
    expected_layout: str = ''

    #: How values of boundaries landing in one target clip combine (``'sum'`` or ``'max'``).
    reduce: str = 'sum'

    def __init__(self, normalize: Optional[str] = None, resample: str = 'boundary',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if normalize not in NORMALIZE_MODES:
            raise ValueError(f'{type(self).__name__}: normalize must be one of '
                             f'{NORMALIZE_MODES}, got {normalize!r}')
        if resample not in RESAMPLE_MODES:
            raise ValueError(f'{type(self).__name__}: resample must be one of '
                             f'{RESAMPLE_MODES}, got {resample!r}')
        self.normalize = normalize
        self.resample = resample

    def forward(self, outputs: Dict[str, torch.Tensor], target_len: Lengths,
                out_len: Optional[int] = None) -> torch.Tensor:
        """Curves ``[B, 2, L_out]`` of the batch on the target grids ``target_len`` ``[B]``."""
        self.check_outputs(outputs)
        batch = self.batch_size(outputs)
        lengths = _as_lengths(target_len, batch, 'target_len')
        out_len = max(lengths) if out_len is None else out_len
        if out_len < max(lengths):
            raise ValueError(f'out_len={out_len} is shorter than the longest target grid '
                             f'({max(lengths)} clips)')
        device = outputs[self.required_keys[0]].device
        curves = torch.zeros(batch, 2, out_len, dtype=torch.float32, device=device)
        for b, length in enumerate(lengths):
            curves[b, :, :length] = self.sample_curves(outputs, b, length)
        return curves

    def check_outputs(self, outputs: Dict[str, torch.Tensor]) -> None:
        """Raise a ValueError naming what is wrong with the teacher outputs."""
        kind = outputs.get('kind', self.kind)
        if kind != self.kind:
            raise ValueError(f'{type(self).__name__} converts kind={self.kind!r} outputs, got '
                             f'kind={kind!r}')
        missing = [k for k in self.required_keys if k not in outputs]
        if missing:
            raise ValueError(f'{type(self).__name__}: teacher outputs lack {missing} (expected '
                             f'{self.expected_layout})')

    def batch_size(self, outputs: Dict[str, torch.Tensor]) -> int:
        """Number of samples ``B`` of the teacher outputs."""
        return int(outputs[self.required_keys[0]].shape[0])

    def teacher_grid_len(self, outputs: Dict[str, torch.Tensor]) -> Optional[torch.Tensor]:
        """Valid length ``[B]`` of each sample on the teacher's own grid (None: no grid)."""
        self.check_outputs(outputs)
        return outputs['valid_len'].long() if 'valid_len' in outputs else None

    def curves_on_teacher_grid(self, outputs: Dict[str, torch.Tensor],
                               grid_len: Optional[Lengths] = None) -> List[torch.Tensor]:
        """Each sample's curves ``[2, L_b]`` on the teacher's own valid grid (for storage).

        ``L_b`` is the teacher's ``valid_len[b]`` (cropped, not resampled); teachers without a
        grid (proposals) are drawn on ``grid_len`` clips (an int or ``[B]`` lengths), which is
        then required.
        """
        lengths = self.teacher_grid_len(outputs)
        if lengths is None:
            if grid_len is None:
                raise ValueError(f'{type(self).__name__}: {self.kind} outputs have no clip grid; '
                                 'give the grid to draw the curves on (grid_len)')
            lengths = ([grid_len] * self.batch_size(outputs) if isinstance(grid_len, int)
                       else grid_len)
        sizes = _as_lengths(lengths, self.batch_size(outputs), 'grid lengths')
        curves = self(outputs, sizes)
        return [curves[b, :, :size] for b, size in enumerate(sizes)]

    @abstractmethod
    def sample_curves(self, outputs: Dict[str, torch.Tensor], b: int, length: int
                      ) -> torch.Tensor:
        """Curves ``[2, length]`` of sample ``b`` on a ``length``-clip target grid."""

    def _valid_len(self, outputs: Dict[str, torch.Tensor], b: int, grid: int) -> int:
        valid = int(outputs['valid_len'][b])
        if not 1 <= valid <= grid:
            raise ValueError(f'{type(self).__name__}: sample {b} has valid_len {valid}, outside '
                             f'[1, {grid}]')
        return valid

    def _finish(self, curves: torch.Tensor, length: int) -> torch.Tensor:
        """Move ``[2, L_valid]`` teacher-grid curves to ``length`` clips, then normalise them
        there."""
        curves = curves.float()
        if self.resample == 'boundary':
            curves = rebin_boundary_curves(curves, length, self.reduce)
        else:
            curves = change_curve_grid(curves, length, self.resample)
        return normalize_curves(curves, self.normalize)


def _activate(values: torch.Tensor, activation: Optional[str]) -> torch.Tensor:
    """``values`` ``[..., L]`` through None, ``"sigmoid"`` or ``"softmax"`` (the last axis)."""
    if activation == 'sigmoid':
        return values.sigmoid()
    if activation == 'softmax':
        return values.softmax(-1)
    return values


@MODELS.register_module()
class SpanCurveConverter(BaseCurveConverter):
    """Span teachers (SeqPAN, EAMAT...): start/end logits as curves.

    Per sample: crop the logits to the teacher's ``valid_len``, apply ``activation``, normalise,
    resample to the target grid. mmemtm's default is a softmax over the valid clips: span
    teachers are trained with a softmax cross-entropy, so only differences of their logits mean
    anything; the reference's element-wise sigmoid saturates on such logits (e.g. every clip of a
    confident SeqPAN near 1) and is kept as ``activation='sigmoid'``.

    Outputs: ``start_logits`` / ``end_logits`` ``[B, L]`` and ``valid_len`` ``[B]`` (long).

    Args:
        activation: ``'softmax'`` (over the valid clips, a distribution; default),
            ``'sigmoid'`` (reference) or None (raw logits).
        normalize: One of :data:`NORMALIZE_MODES`; None (default and reference) keeps the
            activation's range.
    """

    kind = 'span'
    required_keys = ('start_logits', 'end_logits', 'valid_len')
    expected_layout = 'start_logits [B, L], end_logits [B, L], valid_len [B]'

    def __init__(self, activation: Optional[str] = 'softmax', normalize: Optional[str] = None,
                 resample: str = 'boundary', init_cfg: Optional[dict] = None) -> None:
        super().__init__(normalize=normalize, resample=resample, init_cfg=init_cfg)
        if activation not in (None, 'sigmoid', 'softmax'):
            raise ValueError(f"{type(self).__name__}: activation must be 'sigmoid', 'softmax' or "
                             f'None, got {activation!r}')
        self.activation = activation

    def check_outputs(self, outputs: Dict[str, torch.Tensor]) -> None:
        super().check_outputs(outputs)
        start, end = outputs['start_logits'], outputs['end_logits']
        if start.dim() != 2 or start.shape != end.shape:
            raise ValueError(f'{type(self).__name__}: expected start_logits and end_logits of '
                             f'the same shape [B, L], got {tuple(start.shape)} and '
                             f'{tuple(end.shape)}')

    def sample_curves(self, outputs: Dict[str, torch.Tensor], b: int, length: int
                      ) -> torch.Tensor:
        valid = self._valid_len(outputs, b, outputs['start_logits'].shape[1])
        logits = torch.stack([outputs['start_logits'][b, :valid],
                              outputs['end_logits'][b, :valid]])
        curves = _activate(logits.float(), self.activation)
        return self._finish(curves, length)


@MODELS.register_module()
class Map2DCurveConverter(BaseCurveConverter):
    """2-D map teachers (CCA, 2D-TAN...): start x end score maps as curves.

    Per sample, over the valid entries ``i <= j < valid_len`` of ``M = score_map[b]`` only: the
    start curve is the row maximum ``s_i = max_j M[i, j]``, the end curve the column maximum
    ``e_j = max_i M[i, j]``. Cell ``i``'s start lands on the first clip of the cell and cell
    ``j``'s end on its last clip (boundary rebinning with a maximum), i.e. every cell span lands
    on exactly the clip span the map teacher reports for it; then normalise on the target grid
    (default: to sum 1, a distribution like the other converters' curves, so that teachers mix on a
    common scale; reference: L2 along time).

    Outputs: ``score_map`` ``[B, T, T]`` (any range, higher is better) and ``valid_len`` ``[B]``.

    Args:
        activation: Applied to the map first: None (default and reference) or ``'sigmoid'``
            (for maps of logits).
        normalize: One of :data:`NORMALIZE_MODES`; ``'sum'`` by default, ``'l2'`` is the
            reference.
    """

    kind = 'map2d'
    reduce = 'max'
    required_keys = ('score_map', 'valid_len')
    expected_layout = 'score_map [B, T, T], valid_len [B]'

    def __init__(self, activation: Optional[str] = None, normalize: Optional[str] = 'sum',
                 resample: str = 'boundary', init_cfg: Optional[dict] = None) -> None:
        super().__init__(normalize=normalize, resample=resample, init_cfg=init_cfg)
        if activation not in (None, 'sigmoid'):
            raise ValueError(f"{type(self).__name__}: activation must be None or 'sigmoid', got "
                             f'{activation!r}')
        self.activation = activation

    def check_outputs(self, outputs: Dict[str, torch.Tensor]) -> None:
        super().check_outputs(outputs)
        shape = tuple(outputs['score_map'].shape)
        if len(shape) != 3 or shape[1] != shape[2]:
            raise ValueError(f'{type(self).__name__}: score_map must be [B, T, T], got {shape}')

    def sample_curves(self, outputs: Dict[str, torch.Tensor], b: int, length: int
                      ) -> torch.Tensor:
        valid = self._valid_len(outputs, b, outputs['score_map'].shape[1])
        scores = _activate(outputs['score_map'][b, :valid, :valid].float(), self.activation)
        upper = torch.ones(valid, valid, dtype=torch.bool, device=scores.device).triu()
        scores = scores.masked_fill(~upper, -math.inf)
        curves = torch.stack([scores.amax(1), scores.amax(0)])
        return self._finish(curves, length)


@MODELS.register_module()
class ProposalCurveConverter(BaseCurveConverter):
    """Proposal teachers (BAN-APR...): scored moments as curves.

    Per sample: start curve ``sum_k c_k G(s_k)``, end curve ``sum_k c_k G(e_k)``, with ``G`` a
    peak-1 Gaussian bump (:func:`gaussian_bumps`, ``sigma`` on the ``[-1, 1]`` axis) rendered
    directly at the target grid's clip centres; then normalise (default: to sum 1, a
    distribution like the other converters' curves; reference: L2).

    Outputs: ``proposals`` ``[B, K, 2]`` moments as fractions of the video (0..1, start <= end)
    and ``scores`` ``[B, K]`` non-negative confidences (zero-score rows act as padding).

    Args:
        sigma: Bump width on the normalised axis; 0.1 (5 % of the video) is the reference.
        topk: Use only the ``topk`` best-scored proposals of each sample (None: all).
        normalize: One of :data:`NORMALIZE_MODES`; ``'sum'`` by default, ``'l2'`` is the
            reference.
    """

    kind = 'proposals'
    required_keys = ('proposals', 'scores')
    expected_layout = 'proposals [B, K, 2] (fractions of the video), scores [B, K]'
    tolerance = 1e-4

    def __init__(self, sigma: float = 0.1, topk: Optional[int] = None,
                 normalize: Optional[str] = 'sum', init_cfg: Optional[dict] = None) -> None:
        super().__init__(normalize=normalize, resample='boundary', init_cfg=init_cfg)
        if sigma <= 0 or (topk is not None and topk < 1):
            raise ValueError(f'{type(self).__name__}: sigma must be > 0 and topk >= 1 or None, '
                             f'got sigma={sigma}, topk={topk}')
        self.sigma = sigma
        self.topk = topk

    def check_outputs(self, outputs: Dict[str, torch.Tensor]) -> None:
        super().check_outputs(outputs)
        props, scores = outputs['proposals'], outputs['scores']
        if (props.dim() != 3 or props.shape[2] != 2
                or tuple(scores.shape) != tuple(props.shape[:2])):
            raise ValueError(f'{type(self).__name__}: expected proposals [B, K, 2] and scores '
                             f'[B, K], got {tuple(props.shape)} and {tuple(scores.shape)}')

    def teacher_grid_len(self, outputs: Dict[str, torch.Tensor]) -> Optional[torch.Tensor]:
        """Proposals have no grid of their own: the caller chooses the one they are drawn on."""
        self.check_outputs(outputs)
        return None

    def sample_curves(self, outputs: Dict[str, torch.Tensor], b: int, length: int
                      ) -> torch.Tensor:
        props = outputs['proposals'][b].double()
        scores = outputs['scores'][b].double()
        self._check_sample(props, scores, b)
        if self.topk is not None and self.topk < scores.numel():
            keep = scores.topk(self.topk).indices
            props, scores = props[keep], scores[keep]
        props = props.clamp(0, 1)
        curves = torch.stack([gaussian_bumps(props[:, 0], scores, length, self.sigma),
                              gaussian_bumps(props[:, 1], scores, length, self.sigma)])
        return normalize_curves(curves, self.normalize).float()

    def _check_sample(self, props: torch.Tensor, scores: torch.Tensor, b: int) -> None:
        tol = self.tolerance
        if not (torch.isfinite(props).all() and torch.isfinite(scores).all()):
            raise ValueError(f'{type(self).__name__}: sample {b} has NaN or inf proposals/scores')
        if (props < -tol).any() or (props > 1 + tol).any():
            raise ValueError(f'{type(self).__name__}: sample {b} has proposals outside [0, 1] '
                             '(they must be fractions of the video, not seconds or clips)')
        if (props[:, 0] > props[:, 1] + tol).any():
            raise ValueError(f'{type(self).__name__}: sample {b} has a proposal whose start is '
                             'after its end')
        if (scores < 0).any():
            raise ValueError(f'{type(self).__name__}: sample {b} has negative scores')


#: Registered names before the converters were renamed (they were called heads) -> today's.
RENAMED_CONVERTERS = {
    'SpanTeacherCurveHead': 'SpanCurveConverter',
    'Map2DTeacherCurveHead': 'Map2DCurveConverter',
    'ProposalTeacherCurveHead': 'ProposalCurveConverter',
}


def build_curve_converter(kind: str, cfg: Optional[dict] = None) -> BaseCurveConverter:
    """The converter of teacher outputs of ``kind``: ``cfg`` if given, else the default.

    Raises:
        ValueError: unknown ``kind``; ``cfg`` names a converter by its old name (the message
            gives the new one); or ``cfg`` builds a converter of another kind.
    """
    if kind not in CONVERTER_OF_KIND:
        raise ValueError(f'unknown teacher output kind {kind!r}; expected one of '
                         f'{sorted(CONVERTER_OF_KIND)}')
    old = (cfg or {}).get('type')
    if old in RENAMED_CONVERTERS:
        raise ValueError(f'{old} was renamed {RENAMED_CONVERTERS[old]} (the teacher-curve '
                         f'"heads" are converters, now in mmemtm.models.converters); use '
                         f"type='{RENAMED_CONVERTERS[old]}' in {cfg}")
    converter = MODELS.build(dict(cfg) if cfg else dict(type=CONVERTER_OF_KIND[kind]))
    if not isinstance(converter, BaseCurveConverter) or converter.kind != kind:
        raise ValueError(f'converter config {cfg} does not convert kind={kind!r} teacher '
                         'outputs')
    return converter
