"""Training cost of EMTM against the span teacher alone and the student alone.

Example::

    python tools/analysis/benchmark_training.py --features data/planted/tacos_subset \
        --iters 60 --num-workers 0 1 2 --threads 2 --out work_dirs/benchmarks/training.json

Each model is trained for ``--iters`` iterations by mmengine's Runner (``IterBasedTrainLoop``,
no validation, no checkpoints) on the bundled TACoS demo subset with planted features, once per
``--num-workers`` value. Time per iteration and the time spent waiting for data are mmengine's
own: the ``time`` and ``data_time`` that :class:`~mmengine.hooks.IterTimerHook` records in the
message hub every iteration (the first ``--skip`` iterations, which start the workers and warm
the caches up, are left out). The data share is ``sum(data_time) / sum(time)``.

EMTM's train pipeline needs offline teachers' curve files (``LoadTeacherCurves``). Real ones come
from ``tools/dump_teacher_curves.py``; without ``--curves``, three synthetic teachers (Gaussian
bumps at the annotated boundaries on a ``--curve-len``-point grid: sharp, blurred, shifted) are
written to ``<work-dir>/curves`` for the train split: reading and resampling them costs what real
files cost.

The train pipeline is also profiled outside the Runner (``--profile-queries`` queries): mean
milliseconds per query of every transform, of mmengine's ``pseudo_collate`` and of the model's
data preprocessor, to show where data loading time goes.
"""
import argparse
import copy
import os
import os.path as osp
import time
from typing import Any, Dict, List, Optional, Sequence

import mmemtm  # noqa: F401  (registration and compatibility fixes)
import numpy as np
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmemtm.benchmarks import format_table, machine_info
from mmemtm.benchmarks.experiments import set_teacher_curves, teacher_curve_files
from mmemtm.datasets import TeacherCurveEntry, read_queries, save_teacher_curves
from mmemtm.utils import dump_json_atomic
from mmemtm.utils.config_options import merge_cfg_options

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: Trained models: key -> (display name, config).
MODELS_TRAINED = {
    'emtm': ('EMTM (student + co-trained teacher + KAU)', 'configs/emtm_tacos_demo.py'),
    'span_teacher': ('SeqPAN (span teacher)', 'configs/teachers/seqpan_tacos_demo.py'),
    'student': ('EMTM student alone', 'configs/ablations/student_only_tacos_demo.py'),
}
#: Synthetic teachers: (boundary blur sigma, shift), as fractions of the video.
SYNTHETIC_TEACHERS = ((0.02, 0.0), (0.08, 0.0), (0.03, 0.06))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark the cost of training iterations')
    parser.add_argument('--features', default='data/planted/tacos_subset',
                        help='planted features of the demo subset '
                        '(tools/data/generate_planted_features.py)')
    parser.add_argument('--models', nargs='+', default=list(MODELS_TRAINED),
                        choices=list(MODELS_TRAINED), help='models to train')
    parser.add_argument('--curves', nargs='+',
                        help='EMTM teacher curve files (default: synthetic teachers)')
    parser.add_argument('--curve-len', type=int, default=64,
                        help='grid of the synthetic teachers\' curves')
    parser.add_argument('--iters', type=int, default=60, help='training iterations per run')
    parser.add_argument('--skip', type=int, default=5, help='first iterations left out')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--num-workers', type=int, nargs='+', default=[0, 1, 2],
                        help='data-loader workers of the runs')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--profile-queries', type=int, default=128,
                        help='queries of the pipeline profile (0: no profile)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides merged into every config')
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/training',
                        help='folder of the runs\' logs and the synthetic curves')
    parser.add_argument('--out', default='work_dirs/benchmarks/training.json',
                        help='JSON file of the results (written atomically)')
    args = parser.parse_args(argv)
    if args.iters <= args.skip:
        parser.error(f'--iters ({args.iters}) must be larger than --skip ({args.skip})')
    return args


def write_synthetic_curves(ann_file: str, out_dir: str, curve_len: int,
                           seed: int = 0) -> List[str]:
    """Curve files of the synthetic teachers for every query of ``ann_file``.

    Teacher ``t`` puts Gaussian bumps of width ``sigma_t`` at the annotated start and end (as
    fractions of the video), shifted by ``+-shift_t``, on ``curve_len`` points.
    """
    queries = read_queries(ann_file)[0]
    grid = np.linspace(0.0, 1.0, curve_len)
    rng = np.random.default_rng(seed)
    paths = []
    for teacher, (sigma, shift) in enumerate(SYNTHETIC_TEACHERS):
        entries = []
        for query in queries:
            bounds = (np.asarray(query['timestamp']) / query['duration']
                      + shift * rng.choice([-1.0, 1.0]))
            curves = np.exp(-0.5 * ((grid[None] - bounds[:, None]) / sigma)**2)
            entries.append(TeacherCurveEntry(query['query_id'], query['video_id'],
                                             query['sentence'], curves))
        path = osp.join(out_dir, f'synthetic{teacher}.npz')
        save_teacher_curves(path, entries, f'synthetic{teacher}', 'synthetic')
        paths.append(path)
    return paths


def load_config(key: str, args: argparse.Namespace) -> Config:
    """The config of ``key`` with the features, the batch size and ``--cfg-options``."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, MODELS_TRAINED[key][1]))
    cfg.train_dataloader.dataset.data_prefix = dict(features=args.features)
    cfg.train_dataloader.batch_size = args.batch_size
    merge_cfg_options(cfg, args.cfg_options)
    return cfg


def attach_curves(cfg: Config, curves: Sequence[str]) -> None:
    """Point the config's ``LoadTeacherCurves`` (if any) at ``curves``, one per teacher."""
    files = teacher_curve_files(cfg)
    if files is None:
        return
    if len(curves) != len(files):
        raise ValueError(f'the config distils {len(files)} teachers, got {len(curves)} curve '
                         'files')
    set_teacher_curves(cfg, curves)


def stop_loader_workers(runner: Runner) -> None:
    """Stop the workers of the runner's train loader now. Left to the garbage collector (the
    runner lies in reference cycles), they would stop only after torch's 5-s join timeout (the
    collector has already closed the queue that would tell them to), during a later run."""
    iterator = getattr(runner.train_loop.dataloader_iterator, '_iterator', None)
    if hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()


def timed_run(cfg: Config, key: str, num_workers: int, args: argparse.Namespace
              ) -> Dict[str, Any]:
    """Train ``args.iters`` iterations; per-iteration ``time`` / ``data_time`` statistics."""
    cfg = copy.deepcopy(cfg)
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.iters + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10
    cfg.log_level = 'WARNING'
    name = f'{key}_workers{num_workers}'
    cfg.work_dir = osp.join(args.work_dir, name)
    cfg.experiment_name = f'{name}_{time.time_ns()}'
    runner = Runner.from_cfg(cfg)
    tic, cpu_tic = time.perf_counter(), time.process_time()
    runner.train()
    wall, cpu = time.perf_counter() - tic, time.process_time() - cpu_tic
    stop_loader_workers(runner)
    hub = runner.message_hub
    times = hub.get_scalar('train/time').data[0][args.skip:]
    data_times = hub.get_scalar('train/data_time').data[0][args.skip:]
    if len(times) != args.iters - args.skip:
        raise RuntimeError(f'{name}: the message hub holds {len(times) + args.skip} iteration '
                           f'times, expected {args.iters}')
    return dict(num_workers=num_workers, iters=len(times), skipped=args.skip,
                batch_size=cfg.train_dataloader.batch_size,
                time_median_ms=1e3 * float(np.median(times)),
                time_mean_ms=1e3 * float(np.mean(times)),
                data_time_median_ms=1e3 * float(np.median(data_times)),
                data_time_mean_ms=1e3 * float(np.mean(data_times)),
                data_share=float(np.sum(data_times) / np.sum(times)),
                queries_per_s=cfg.train_dataloader.batch_size / float(np.mean(times)),
                wall_s=wall, main_process_cpu_s=cpu, log_dir=runner.log_dir)


def profile_pipeline(cfg: Config, num_queries: int) -> Dict[str, float]:
    """Mean milliseconds per query of each train transform, of ``pseudo_collate`` and of the
    model's data preprocessor (in training mode), over the first ``num_queries`` queries."""
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    transforms = dataset.pipeline.transforms
    spent = {type(t).__name__: 0.0 for t in transforms}
    num_queries = min(num_queries, len(dataset))
    batch_size = cfg.train_dataloader.batch_size
    packed = []
    for index in range(num_queries):
        results = dataset.get_data_info(index)
        for transform in transforms:
            tic = time.perf_counter()
            results = transform(results)
            spent[type(transform).__name__] += time.perf_counter() - tic
        packed.append(results)
    spent['pseudo_collate'] = spent['GroundingDataPreprocessor'] = 0.0
    for first in range(0, num_queries, batch_size):
        tic = time.perf_counter()
        batch = pseudo_collate(packed[first:first + batch_size])
        spent['pseudo_collate'] += time.perf_counter() - tic
        tic = time.perf_counter()
        preprocessor(batch, True)
        spent['GroundingDataPreprocessor'] += time.perf_counter() - tic
    return {name: 1e3 * seconds / num_queries for name, seconds in spent.items()}


def report(results: Dict[str, Any]) -> str:
    """Plain-text tables of the runs and of the pipeline profile."""
    runs = results['runs']
    rows = []
    reference = {run['num_workers']: run['time_median_ms']
                 for run in runs.get('span_teacher', [])}
    for key, per_workers in runs.items():
        for run in per_workers:
            ratio = run['time_median_ms'] / reference[run['num_workers']] \
                if run['num_workers'] in reference else None
            rows.append([results['models'][key]['name'], run['num_workers'], run['batch_size'],
                         f'{run["time_median_ms"]:.1f}', f'{run["time_mean_ms"]:.1f}',
                         f'{run["data_time_median_ms"]:.2f}', f'{100 * run["data_share"]:.1f}%',
                         f'{run["queries_per_s"]:.1f}', '' if ratio is None else f'{ratio:.2f}'])
    setup = results['setup']
    lines = [f'{setup["iters"]} iterations (first {setup["skip"]} left out), '
             f'{setup["torch_threads"]} torch threads, load average '
             f'(1 min) {setup["load_average_start"][0]:.2f} -> {setup["load_average_end"][0]:.2f}',
             '', format_table(['model', 'workers', 'batch', 'iter ms (median)', 'iter ms (mean)',
                               'data ms (median)', 'data share', 'queries/s',
                               'iter / SeqPAN iter'], rows)]
    for key, profile in results.get('pipeline_profile', {}).items():
        total = sum(profile.values())
        rows = [[stage, f'{ms:.3f}', f'{100 * ms / total:.1f}%'] for stage, ms in profile.items()]
        rows.append(['total', f'{total:.3f}', '100.0%'])
        lines += ['', f'data pipeline per query: {results["models"][key]["name"]}',
                  format_table(['stage', 'ms/query', 'share'], rows)]
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    configs = {key: load_config(key, args) for key in args.models}
    curves = args.curves
    if curves is None and 'emtm' in configs:
        curves = write_synthetic_curves(configs['emtm'].train_dataloader.dataset.ann_file,
                                        osp.join(args.work_dir, 'curves'), args.curve_len)
    for cfg in configs.values():
        attach_curves(cfg, curves or [])
    setup = dict(machine_info(), iters=args.iters, skip=args.skip, features=args.features,
                 curves=curves, cfg_options=args.cfg_options)
    results = dict(setup=setup, models={}, runs={}, pipeline_profile={})
    for key, cfg in configs.items():
        results['models'][key] = dict(name=MODELS_TRAINED[key][0],
                                      config=MODELS_TRAINED[key][1])
        results['runs'][key] = [timed_run(cfg, key, workers, args)
                                for workers in args.num_workers]
        if args.profile_queries:
            results['pipeline_profile'][key] = profile_pipeline(cfg, args.profile_queries)
    setup['load_average_end'] = list(os.getloadavg())
    print(report(results), flush=True)
    dump_json_atomic(results, args.out, indent=2)
    print(f'results written to {args.out}')
    return results


if __name__ == '__main__':
    main()
