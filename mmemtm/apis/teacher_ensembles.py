"""Grounding with teacher curves alone: each teacher, their plain average, and EMTM's KAU mixture.

A teacher's unified start/end curves (``[2, L]``, distributions over the clips) can be decoded like
a span model's boundary probabilities: the best span maximises ``start_i * end_j`` with
``i <= j``. This measures how good the soft labels EMTM distils are, on any split whose teacher
curves were dumped (``tools/dump_teacher_curves.py --split test``).
"""
import copy
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.utils import ProgressBar

from mmemtm.evaluation import GroundingMetric
from mmemtm.models.distillers import aggregate_curves, curves_to_logits, fit_mixture_weights
from mmemtm.models.grounders import spans_to_moments
from mmemtm.models.utils import decode_spans
from .curve_dumping import build_split_dataloader


def decode_curves(curves: torch.Tensor, video_mask: torch.Tensor, k: int = 5) -> dict:
    """Ranked spans of start/end curves ``[B, 2, L]`` (unnormalised probabilities)."""
    logits = curves_to_logits(curves, 'log')
    return decode_spans(logits[:, 0], logits[:, 1], video_mask, k)


def _curve_pipeline(cfg: Config, curve_files: Sequence[str]) -> List[dict]:
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    pack = next(i for i, t in enumerate(pipeline) if t['type'] == 'PackGroundingInputs')
    # decoding needs exact spans: boundary rebinning, not the spreading of distillation targets
    pipeline.insert(pack, dict(type='LoadTeacherCurves', files=list(curve_files),
                               resample='boundary'))
    return pipeline


@torch.no_grad()
def evaluate_teacher_curves(model: torch.nn.Module, cfg: Config, curve_files: Sequence[str],
                            teacher_names: Sequence[str], split: str = 'test',
                            batch_size: Optional[int] = None,
                            dump_files: Optional[Dict[str, str]] = None
                            ) -> Dict[str, Dict[str, float]]:
    """Metrics of decoding each teacher's curves, their plain average and the KAU mixture.

    Args:
        model: A trained EMTM (its aggregator weighs the teachers; with an average aggregator the
            "KAU" row equals the average).
        cfg: Its config (the split's dataset and test pipeline).
        curve_files: The teachers' curve files of ``split``, in the model's teacher order.
        teacher_names: A name per teacher (row names).
        split: ``'test'``, ``'val'`` or ``'train'``.
        batch_size: Batch size (default: the split's).
        dump_files: ``{row name: path}``: per-query predictions and IoUs of those rows
            (``GroundingMetric(dump_file=...)``).

    Returns:
        dict: ``{row name: GroundingMetric metrics}``; the ``'KAU mixture'`` metrics also hold
        ``top_teacher_share/<name>``, the % of queries on which the aggregator gives teacher
        ``name`` the largest weight (its start and end weights averaged).
    """
    if len(curve_files) != len(teacher_names):
        raise ValueError(f'{len(curve_files)} curve files for {len(teacher_names)} teacher names')
    cfg = copy.deepcopy(cfg)
    cfg.test_dataloader.dataset.pipeline = _curve_pipeline(cfg, curve_files)
    dataloader = build_split_dataloader(cfg, split, batch_size, 0)
    rows = [*teacher_names, 'plain average of teachers', 'KAU mixture']
    dump_files = dump_files or {}
    metrics = {row: GroundingMetric(dump_file=dump_files.get(row)) for row in rows}
    model.eval()
    top = torch.zeros(len(teacher_names), 1)
    progress = ProgressBar(len(dataloader.dataset))
    for data in dataloader:
        data = model.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        curves = inputs['teacher_curves']
        video, query = model.encoder.encode_inputs(inputs)
        weights = model.aggregator(video, query, inputs['video_mask'], inputs['word_mask'])
        top[:, 0] += torch.bincount(weights.mean(-1).argmax(1), minlength=len(teacher_names))
        mixtures = [curves[:, i] for i in range(curves.shape[1])]
        mixtures += [curves.mean(1), aggregate_curves(weights, curves)]
        for row, mixture in zip(rows, mixtures):
            out = decode_curves(mixture, inputs['video_mask'])
            metrics[row].process({}, _predictions(out, inputs['video_mask'], samples))
        progress.update(len(samples))
    results = {row: m.compute_metrics(m.results) for row, m in metrics.items()}
    shares = 100 * top[:, 0] / top.sum().clamp(min=1)
    results['KAU mixture'].update({f'top_teacher_share/{name}': float(share)
                                   for name, share in zip(teacher_names, shares)})
    return results


def _weight_fit_pipeline(cfg: Config, curve_files: Sequence[str]) -> List[dict]:
    """The test pipeline plus the train pipeline's targets and teacher-curve loading (the same
    grid change as the curves that are distilled), reading ``curve_files``."""
    train = cfg.train_dataloader.dataset.pipeline
    targets = next((t for t in train if t['type'] == 'BuildGroundingTargets'),
                   dict(type='BuildGroundingTargets'))
    load = next((t for t in train if t['type'] == 'LoadTeacherCurves'),
                dict(type='LoadTeacherCurves'))
    load = {k: v for k, v in load.items() if k != 'aggregator_files'}
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    pack = next(i for i, t in enumerate(pipeline) if t['type'] == 'PackGroundingInputs')
    pipeline[pack:pack] = [copy.deepcopy(targets), dict(load, files=list(curve_files))]
    return pipeline


@torch.no_grad()
def fit_teacher_weights(model: torch.nn.Module, cfg: Config, curve_files: Sequence[str],
                        split: str = 'val', batch_size: Optional[int] = None) -> torch.Tensor:
    """Teacher weights fitted on the teachers' curves of ``split`` (val: videos no teacher trained
    on), by :func:`~mmemtm.models.distillers.fit_mixture_weights` against the ground truth's
    soft start/end labels; the curves are moved onto the student's grid as for distillation.

    Args:
        model: A model of ``cfg`` (its data preprocessor batches the split).
        cfg: An EMTM config (train pipeline: targets and curve loading; ``split``'s dataset).
        curve_files: The teachers' curve files of ``split``, in teacher order.
        split: ``'val'`` (default), ``'test'`` or ``'train'``.
        batch_size: Batch size (default: the split's).

    Returns:
        torch.Tensor: ``[T, 2]`` start/end weights, each column summing to 1.
    """
    cfg = copy.deepcopy(cfg)
    cfg.test_dataloader.dataset.pipeline = _weight_fit_pipeline(cfg, curve_files)
    dataloader = build_split_dataloader(cfg, split, batch_size, 0)
    curves, labels = [], []
    for data in dataloader:
        inputs = model.data_preprocessor(data, False)['inputs']
        targets = inputs['targets']
        curves.append(inputs['teacher_curves'])
        labels.append(torch.stack([targets['start_label'], targets['end_label']], 1))
    length = max(c.shape[-1] for c in curves)
    curves = torch.cat([F.pad(c, (0, length - c.shape[-1])) for c in curves])
    labels = torch.cat([F.pad(y, (0, length - y.shape[-1])) for y in labels])
    return fit_mixture_weights(curves, labels)


def _predictions(out: dict, video_mask: torch.Tensor, samples: list) -> List[dict]:
    predictions = []
    for b, sample in enumerate(samples):
        v_len = int(video_mask[b].sum())
        moments, scores = spans_to_moments(out['spans'][b], out['scores'][b], v_len,
                                           float(sample.duration))
        predictions.append(dict(sample.metainfo, pred_moments=moments, pred_scores=scores))
    return predictions
