"""Running a trained teacher over a split and storing its unified curves."""
import contextlib
import copy
import warnings
from typing import Any, Iterator, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from mmemtm.datasets.curve_file import TeacherCurveEntry, save_teacher_curves
from mmemtm.models.grounders import BaseGrounder
from mmemtm.models.converters import BaseCurveConverter, build_curve_converter


def build_split_dataloader(cfg: Config, split: str, batch_size: Optional[int],
                           num_workers: Optional[int]) -> torch.utils.data.DataLoader:
    """The ``split``'s dataset with the test pipeline, in order, every query exactly once."""
    loader_cfg = cfg.get(f'{split}_dataloader')
    if not loader_cfg or 'dataset' not in loader_cfg:
        raise ValueError(f'the config has no {split}_dataloader.dataset')
    dataset = copy.deepcopy(loader_cfg['dataset'])
    if 'pipeline' not in dataset or 'ann_file' not in dataset:
        raise ValueError(f'{split}_dataloader.dataset must be a grounding dataset with '
                         f'ann_file and pipeline (dataset wrappers are not supported)')
    dataset.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    dataset.test_mode = True
    workers = loader_cfg.get('num_workers', 0) if num_workers is None else num_workers
    return Runner.build_dataloader(dict(
        batch_size=batch_size or loader_cfg.get('batch_size', 1),
        num_workers=workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        dataset=dataset))


@contextlib.contextmanager
def dropout_sampling(model: torch.nn.Module, seed: int = 0) -> Iterator[None]:
    """Within the block, ``model``'s dropout layers drop (everything else stays in eval mode,
    e.g. batch norm) and draw from a generator seeded with ``seed``; the global random state is
    restored afterwards."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
    if not layers:
        raise ValueError(f'{type(model).__name__} has no dropout layer to sample curves with')
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for layer in layers:
            layer.train()
        try:
            yield
        finally:
            for layer in layers:
                layer.eval()


def teacher_batches(model: torch.nn.Module, dataloader: torch.utils.data.DataLoader,
                    passes: int = 1) -> Iterator[Tuple[List[dict], dict, list]]:
    """``(teacher outputs of each of ``passes`` forward passes, batch inputs, data samples)`` of
    every batch, without gradients (more than one pass: under :func:`dropout_sampling`)."""
    with torch.no_grad():
        for data in dataloader:
            data = model.data_preprocessor(data, False)
            outputs = [model.teacher_outputs(data['inputs']) for _ in range(passes)]
            yield outputs, data['inputs'], data['data_samples']


def batch_entries(converter: BaseCurveConverter, passes: List[dict], inputs: dict,
                  samples: list, grid_len: Optional[int]) -> List[TeacherCurveEntry]:
    """One entry per query of the batch: its curves on the teacher's valid grid, averaged over
    the forward ``passes`` (each pass's curves are distributions: the average is their
    mixture)."""
    grid = grid_len if grid_len is not None else inputs['video_mask'].sum(1).long()
    per_pass = [converter.curves_on_teacher_grid(outputs, grid) for outputs in passes]
    curves = [torch.stack(sample).mean(0) for sample in zip(*per_pass)]
    return [TeacherCurveEntry(s.query_id, s.video_id, s.sentence, c.cpu().numpy())
            for s, c in zip(samples, curves)]


def converter_config(converter: Optional[dict], head: Optional[dict]) -> Optional[dict]:
    """The converter config given as ``converter``, or by its old keyword ``head`` (deprecated:
    the converters were once called unified teacher heads)."""
    if head is None:
        return converter
    if converter is not None:
        raise TypeError('give the converter config as converter=..., not also as head=... (its '
                        'old name)')
    warnings.warn('head= was renamed converter= (the teacher-curve converter config)',
                  DeprecationWarning, stacklevel=3)
    return head


def _implements_teacher_outputs(model: Any) -> bool:
    """Whether ``model`` implements :meth:`BaseGrounder.teacher_outputs` (the base raises)."""
    method = getattr(type(model), 'teacher_outputs', None)
    return callable(method) and method is not BaseGrounder.teacher_outputs


def dump_teacher_curves(model: torch.nn.Module, cfg: Config, out: str, split: str = 'train',
                        name: str = 'teacher', converter: Optional[dict] = None,
                        grid_len: Optional[int] = None, batch_size: Optional[int] = None,
                        num_workers: Optional[int] = None, extra_meta: Optional[dict] = None,
                        dropout_samples: int = 1, *, head: Optional[dict] = None) -> int:
    """Run ``model`` (in eval mode, on its device) over ``split`` and write its curve file.

    Args:
        model: A trained grounder with ``teacher_outputs(inputs)``.
        cfg: Its config (dataloaders and test pipeline).
        out: Output curve file (``.npz``), written atomically.
        split: ``'train'`` (what EMTM distils from), ``'val'`` or ``'test'``.
        name: Teacher name stored in the file.
        converter: Config of the teacher-curve converter (default: the converter of the
            outputs' ``kind``); stored as the file's ``converter`` meta information.
        grid_len: Draw proposal curves on this many clips (default: each query's clip grid).
        batch_size: Batch size (default: the split's).
        num_workers: Data-loading workers (default: the split's).
        extra_meta: More facts stored in the file's meta information.
        dropout_samples: Forward passes per query; above 1, each query's curves are the mean of
            that many passes with the model's dropout active (Monte-Carlo dropout, seed 0),
            which softens what a teacher has memorised of its training queries. Stored as the
            file's ``dropout_samples`` meta information.
        head: Old name of ``converter`` (deprecated).

    Returns:
        int: Number of queries written (every query of the split).
    """
    if not _implements_teacher_outputs(model):
        raise TypeError(f'{type(model).__name__} has no teacher_outputs(inputs): it cannot act '
                        'as a teacher')
    converter = converter_config(converter, head)
    dataloader = build_split_dataloader(cfg, split, batch_size, num_workers)
    dataset = dataloader.dataset
    unified: Optional[BaseCurveConverter] = None
    entries: List[TeacherCurveEntry] = []
    device = next(model.parameters()).device
    progress = ProgressBar(len(dataset))
    if dropout_samples < 1:
        raise ValueError(f'dropout_samples must be at least 1, got {dropout_samples}')
    model.eval()
    sampling = dropout_sampling(model) if dropout_samples > 1 else contextlib.nullcontext()
    with sampling:
        for passes, inputs, samples in teacher_batches(model, dataloader, dropout_samples):
            if unified is None:
                unified = build_curve_converter(passes[0].get('kind'), converter).to(device)
            entries += batch_entries(unified, passes, inputs, samples, grid_len)
            progress.update(len(samples))
    expected = [dataset.get_data_info(i)['query_id'] for i in range(len(dataset))]
    missing = sorted(set(expected) - {e.query_id for e in entries})
    if missing or len(entries) != len(expected):
        raise RuntimeError(f'{len(entries)} queries dumped, {len(expected)} in the '
                           f'{split} split; missing e.g. {missing[:5]}')
    meta = dict(extra_meta or {}, split=split, ann_file=dataset.ann_file,
                converter=repr(unified), dropout_samples=dropout_samples)
    return save_teacher_curves(out, entries, teacher=name, kind=unified.kind, extra_meta=meta)
