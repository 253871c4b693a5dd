"""Building blocks of scripted experiments (the demo, the accuracy benchmark): config surgery,
train-then-test runs, and parameter counts."""
import copy
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.runner import Runner

DATA_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
             'test_evaluator')


def train_resumable(cfg: Config, work_dir: str) -> dict:
    """Train ``cfg`` in ``work_dir``, resuming the run stopped there (if any).

    Returns:
        dict: ``checkpoint`` (the best-on-val checkpoint), ``minutes`` of wall time and the
        1-minute ``load_average`` at the start and the end.
    """
    cfg.work_dir = work_dir
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cfg.resume = True
    start, load = time.time(), os.getloadavg()[0]
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = runner.message_hub.get_info('best_ckpt')
    return dict(checkpoint=best, minutes=(time.time() - start) / 60,
                load_average=[load, os.getloadavg()[0]])


def use_dataset(cfg: Config, dataset_cfg: Config) -> None:
    """Swap ``cfg``'s data (dataloaders, evaluators, GloVe vocabulary) for ``dataset_cfg``'s,
    keeping the model's teacher curves (if any) in the new train pipeline."""
    curves = teacher_curve_files(cfg)
    for key in DATA_KEYS:
        cfg[key] = copy.deepcopy(dataset_cfg[key])
    if 'vocab' in cfg.model:
        cfg.model.vocab = dataset_cfg.glove
    if curves is not None:
        set_teacher_curves(cfg, curves)


def teacher_curve_files(cfg: Config) -> Optional[list]:
    """The ``files`` of the train pipeline's ``LoadTeacherCurves`` (None without one)."""
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            return list(transform['files'])
    return None


def set_teacher_curves(cfg: Config, files: Sequence[str]) -> None:
    """Point (or add, before packing) the train pipeline's ``LoadTeacherCurves`` at ``files``."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    for transform in pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            transform['files'] = list(files)
            return
    pack = next(i for i, t in enumerate(pipeline) if t['type'] == 'PackGroundingInputs')
    pipeline.insert(pack, dict(type='LoadTeacherCurves', files=list(files)))


def aggregator_curve_files(cfg: Config) -> List[str]:
    """The ``aggregator_files`` of the train pipeline's ``LoadTeacherCurves`` (or none)."""
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            return list(transform.get('aggregator_files') or [])
    return []


def set_aggregator_curves(cfg: Config, files: Optional[Sequence[str]]) -> None:
    """Fit the aggregator on ``files`` (None: on the distilled curves) (the train pipeline's
    ``LoadTeacherCurves`` must be there, with one file per teacher slot)."""
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            transform.pop('aggregator_files', None)
            if files is not None:
                transform['aggregator_files'] = list(files)
            return
    raise ValueError('the train pipeline has no LoadTeacherCurves to give aggregator files to')


def inference_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters run at inference (EMTM: its student's only)."""
    modules = model.parameter_groups()['student'] if hasattr(model, 'parameter_groups') \
        else [model]
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def train_and_test(cfg: Config, use_best: bool = True) -> Dict[str, object]:
    """Train, load the best checkpoint (by the config's ``save_best``, when one was kept and
    ``use_best``) and test.

    Returns:
        dict: the test metrics, ``params`` (:func:`inference_parameters`), ``minutes`` and
        the ``runner`` (whose model holds the tested weights).
    """
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = runner.message_hub.get_info('best_ckpt')
    if use_best and best:
        runner.load_checkpoint(best)
    metrics = dict(runner.test())
    metrics.update(params=inference_parameters(runner.model),
                   minutes=(time.time() - start) / 60, runner=runner)
    return metrics
