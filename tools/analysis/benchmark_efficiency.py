"""Efficiency of EMTM's student against its teachers and the training-time EMTM model.

Example::

    python tools/analysis/benchmark_efficiency.py --settings tacos charades anet \
        --threads 2 --out work_dirs/benchmarks/efficiency.json

For every setting (the real-data configs ``configs/emtm_<setting>.py`` and
``configs/teachers/{seqpan,tan2d,scdm}_<setting>.py``, built with ``model.vocab`` pointed at a
GloVe subset that exists here) the models get synthetic inputs of the setting's shapes: ``L =
max_vlen`` clips of ``video_dim`` features (all valid), a typical query length and word width.
Five models are measured in one run, so that their ratios are meaningful:

* ``student``: EMTM's inference path (:meth:`EMTM.predict_spans`: shared encoder + student
  head + span decoding);
* ``span_teacher`` (SeqPAN), ``map_teacher`` (2D-TAN), ``proposal_teacher`` (SCDM):
  ``predict_spans``;
* ``emtm_training``: the training-time EMTM model (student + co-trained teacher + KAU), its
  ``loss`` forward (no backward; see ``benchmark_training.py`` for whole training steps).

Per model: trainable and total parameters (frozen GloVe table in the total only); FLOPs per
query from mmengine's :class:`~mmengine.analysis.FlopAnalyzer` at batch 1 (mmengine counts one
fused multiply-add as one flop, so the numbers are multiply-accumulates, MACs), with the ops it
skips and a per-module breakdown; batch-1 latency (median over runs after warm-up, eval mode,
``torch.no_grad()``); throughput at ``--batch-size``; and, for ``--queries-per-video`` sentences
about one video, the throughput of ``predict_one_video`` (EMTM encodes the video once) against
``predict_spans`` with the video repeated. Models are timed in interleaved rounds, so a load
change on a shared machine hits all of them alike; ``--budget`` bounds the seconds spent per
model and measurement (a very slow model gets fewer runs and, for throughput, a smaller batch:
the batch used is reported).
"""
import argparse
import math
import os
import os.path as osp
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import mmemtm  # noqa: F401  (registration and compatibility fixes)
import numpy as np
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.config import DictAction

from mmemtm.apis import init_grounder
from mmemtm.datasets.transforms import span_targets
from mmemtm.models.grounders import BaseGrounder
from mmemtm.structures import GroundingDataSample
from mmemtm.text import CharVocabulary, load_word_vocabulary
from mmemtm.utils import dump_json_atomic, format_table, machine_info

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED_GLOVE = osp.join(REPO_ROOT, '..', 'shared', 'data', 'glove_subsets')
DEMO_GLOVE = osp.join(REPO_ROOT, 'demo', 'data', 'tacos_subset', 'glove')

#: Measured models: key -> (display name, config slot, method).
MODELS = {
    'student': ('EMTM student', 'emtm', 'predict_spans'),
    'span_teacher': ('SeqPAN (span teacher)', 'seqpan', 'predict_spans'),
    'map_teacher': ('2D-TAN (2-D map teacher)', 'tan2d', 'predict_spans'),
    'proposal_teacher': ('SCDM (proposal teacher)', 'scdm', 'predict_spans'),
    'emtm_training': ('EMTM training (loss fwd)', 'emtm', 'loss'),
}
TEACHERS = ('span_teacher', 'map_teacher', 'proposal_teacher')
#: Models whose batch-1 latency is also broken down by top-level submodule.
BREAKDOWN_MODELS = ('student', 'span_teacher')

#: Settings: configs, typical query (words; letters of its longest word, the width of the
#: character tensor) and the GloVe subset used for ``model.vocab``. Query lengths are the
#: train-split means of the real annotations (tokenised as by TokenizeQuery): TACoS 9.3 words,
#: Charades-STA 7.2, ActivityNet Captions 14.7; longest word 7.1 / 7.0 / 8.0 letters. There is
#: no ActivityNet GloVe subset here; the TACoS one stands in (it changes only the size of the
#: frozen table, not the FLOPs or the speed).
SETTINGS = {
    'tacos': dict(emtm='configs/emtm_tacos.py', seqpan='configs/teachers/seqpan_tacos.py',
                  tan2d='configs/teachers/tan2d_tacos.py', scdm='configs/teachers/scdm_tacos.py',
                  words=9, chars=7, vocab=osp.join(SHARED_GLOVE, 'tacos_glove42B_tgn')),
    'charades': dict(emtm='configs/emtm_charades.py',
                     seqpan='configs/teachers/seqpan_charades.py',
                     tan2d='configs/teachers/tan2d_charades.py',
                     scdm='configs/teachers/scdm_charades.py', words=7, chars=7,
                     vocab=osp.join(SHARED_GLOVE, 'charades_glove42B_tgn')),
    'anet': dict(emtm='configs/emtm_anet.py', seqpan='configs/teachers/seqpan_anet.py',
                 tan2d='configs/teachers/tan2d_anet.py', scdm='configs/teachers/scdm_anet.py',
                 words=14, chars=8, vocab=osp.join(SHARED_GLOVE, 'tacos_glove42B_tgn')),
    'tacos_demo': dict(emtm='configs/emtm_tacos_demo.py',
                       seqpan='configs/teachers/seqpan_tacos_demo.py',
                       tan2d='configs/teachers/tan2d_tacos_demo.py',
                       scdm='configs/teachers/scdm_tacos_demo.py', words=9, chars=7,
                       vocab=DEMO_GLOVE),
}

#: Goals (stated for the TACoS setting): (key, description, ratio of :func:`compare`,
#: comparison, threshold, teacher).
GOALS = (
    ('flops_vs_span_teacher', 'student FLOPs <= 1/2 of the span teacher (SeqPAN)',
     'flops_ratio', '<=', 0.5, 'span_teacher'),
    ('latency_vs_span_teacher', 'student >= 2x faster than the span teacher at batch 1',
     'latency_speedup', '>=', 2.0, 'span_teacher'),
    ('flops_vs_map_teacher', 'student FLOPs <= 1/10 of the 2-D map teacher (2D-TAN)',
     'flops_ratio', '<=', 0.1, 'map_teacher'),
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark EMTM against its teachers')
    parser.add_argument('--settings', nargs='+', default=['tacos', 'charades', 'anet'],
                        choices=sorted(SETTINGS), help='settings to measure')
    parser.add_argument('--vocab', nargs='+', action=DictAction, default={},
                        help='GloVe subset per setting, e.g. tacos=PATH (default: the shared '
                        'subsets, or the bundled demo GloVe when they are absent)')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--batch-size', type=int, default=32, help='batch of the throughput')
    parser.add_argument('--queries-per-video', type=int, default=32,
                        help='sentences about one video (encode-once measurement)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed runs per measurement')
    parser.add_argument('--repeats', type=int, default=30, help='timed runs per measurement')
    parser.add_argument('--budget', type=float, default=60.0,
                        help='seconds per model and measurement (fewer runs, smaller batch)')
    parser.add_argument('--devices', nargs='+', help='devices (default: cpu, and cuda when '
                        'torch.cuda.is_available())')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides merged into every model config')
    parser.add_argument('--seed', type=int, default=0, help='seed of the synthetic inputs')
    parser.add_argument('--out', default='work_dirs/benchmarks/efficiency.json',
                        help='JSON file of the results (written atomically)')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# Models and inputs


def setting_vocab(name: str, overrides: Dict[str, str]) -> str:
    """GloVe subset of a setting: ``--vocab`` override, else the default if it exists, else the
    bundled demo GloVe."""
    path = overrides.get(name, SETTINGS[name]['vocab'])
    if not osp.isdir(path) and not osp.isfile(path):
        if name in overrides:
            raise FileNotFoundError(f'--vocab {name}={path}: no such GloVe subset')
        path = DEMO_GLOVE
    return osp.abspath(path)


def build_model(config: str, vocab: str, cfg_options: Dict[str, Any]) -> BaseGrounder:
    """The model of ``config`` (random weights, eval mode, CPU) with ``model.vocab`` set."""
    options = dict(cfg_options)
    options['model.vocab'] = vocab
    return init_grounder(osp.join(REPO_ROOT, config), cfg_options=options)


def synthetic_batch(model: BaseGrounder, batch: int, shape: Dict[str, int], training: bool,
                    rng: np.random.Generator) -> Dict[str, Any]:
    """A batch ``inputs`` dict made by the model's data preprocessor from packed queries.

    ``shape`` holds ``max_vlen``, ``video_dim``, ``words``, ``chars``, ``vocab_size`` and
    ``num_teachers``. Each query: ``video`` ``[max_vlen, video_dim]`` Gaussian features (every
    clip valid), ``words`` word ids of the vocabulary, ``chars`` ``[words, chars]`` letter ids;
    with ``training``, the targets of a random moment (``span_targets``) and ``num_teachers``
    random positive curves ``[T, 2, max_vlen]``.
    """
    num_chars = len(CharVocabulary.default())
    length, words = shape['max_vlen'], shape['words']
    items, samples = [], []
    for _ in range(batch):
        item = dict(
            video=torch.from_numpy(rng.standard_normal((length, shape['video_dim']),
                                                       dtype=np.float32)),
            words=torch.from_numpy(rng.integers(2, shape['vocab_size'], words)),
            chars=torch.from_numpy(rng.integers(2, num_chars, (words, shape['chars']))))
        sample = GroundingDataSample()
        if training:
            start = rng.uniform(0.0, 0.7)
            span, start_label, end_label, tags = span_targets(
                start, start + rng.uniform(0.05, 0.3), 1.0, length)
            sample.set_field(torch.tensor(span), 'gt_span')
            for key, value in (('start_label', start_label), ('end_label', end_label),
                               ('match_label', tags)):
                sample.set_field(torch.from_numpy(value), key)
            if shape['num_teachers']:
                item['teacher_curves'] = torch.from_numpy(rng.uniform(
                    0.0, 1.0, (shape['num_teachers'], 2, length)).astype(np.float32))
        items.append(item)
        samples.append(sample)
    return model.data_preprocessor(dict(inputs=items, data_samples=samples), training)['inputs']


def one_video_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """:meth:`BaseGrounder.predict_one_video` inputs: the first video once, every query."""
    return dict(video=inputs['video'][:1], video_mask=inputs['video_mask'][:1],
                words=inputs['words'], chars=inputs['chars'], word_mask=inputs['word_mask'])


def repeated_video_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The first video repeated for every query (what a model without encode-once runs)."""
    queries = inputs['words'].shape[0]
    return dict(inputs, video=inputs['video'][:1].repeat(queries, 1, 1),
                video_mask=inputs['video_mask'][:1].repeat(queries, 1))


def to_device(inputs: Any, device: str) -> Any:
    if isinstance(inputs, dict):
        return {k: to_device(v, device) for k, v in inputs.items()}
    return inputs.to(device)


def flatten(tree: Dict[str, Any], prefix: Tuple[str, ...] = ()) -> List[Tuple[tuple, Any]]:
    """``[(key path, tensor)]`` of a nested dict of tensors, in sorted key order."""
    leaves = []
    for key in sorted(tree):
        if isinstance(tree[key], dict):
            leaves += flatten(tree[key], prefix + (key, ))
        elif isinstance(tree[key], torch.Tensor):
            leaves.append((prefix + (key, ), tree[key]))
    return leaves


class MethodCall(nn.Module):
    """Calls ``model.<method>(inputs)`` from positional tensors, for jit-traced FLOP counting.

    Args:
        model: The grounder.
        method: ``'predict_spans'``, ``'predict_one_video'`` or ``'loss'``.
        paths: Key paths of the positional tensors in the ``inputs`` dict.
    """

    def __init__(self, model: BaseGrounder, method: str, paths: Sequence[tuple]) -> None:
        super().__init__()
        self.model = model
        self.method = method
        self.paths = list(paths)

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        inputs: Dict[str, Any] = {}
        for path, tensor in zip(self.paths, tensors):
            node = inputs
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = tensor
        if self.method == 'loss':
            out = self.model.loss(inputs, None)
        else:
            out = getattr(self.model, self.method)(inputs)
        return tuple(t for _, t in flatten(out))


def call_of(model: BaseGrounder, method: str,
            inputs: Dict[str, torch.Tensor]) -> Callable[[], Any]:
    """A no-argument call of ``model.<method>`` on ``inputs``."""
    if method == 'loss':
        return lambda: model.loss(inputs, None)
    return lambda: getattr(model, method)(inputs)


# ---------------------------------------------------------------------------------------------
# Measurements


def count_parameters(modules: Sequence[nn.Module]) -> Dict[str, int]:
    """Trainable and total parameters of ``modules`` (a shared parameter once)."""
    params = {id(p): p for m in modules for p in m.parameters()}.values()
    return dict(trainable=sum(p.numel() for p in params if p.requires_grad),
                total=sum(p.numel() for p in params))


def flop_analysis(model: BaseGrounder, method: str, inputs: Dict[str, torch.Tensor],
                  queries: int = 1, depth: int = 2) -> Dict[str, Any]:
    """mmengine's FLOP count of ``model.<method>(inputs)`` divided by ``queries``.

    Returns:
        dict: ``per_query`` (MACs), ``unsupported_ops`` (op name -> occurrences; mmengine
        counts no FLOPs for them) and, when ``depth > 0``, ``by_module`` (MACs per query of the
        submodules down to ``depth`` levels, plus ``(outside submodules)`` for ops run directly
        in the model's methods; mmengine gives a module the ops run inside its ``__call__``).
    """
    leaves = flatten(inputs)
    analyzer = FlopAnalyzer(MethodCall(model, method, [p for p, _ in leaves]),
                            tuple(t for _, t in leaves))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    with torch.no_grad():
        total = analyzer.total()
    by_module = {}
    for name, flops in analyzer.by_module().items():
        parts = name.split('.')
        if parts[0] == 'model' and 1 < len(parts) <= depth + 1 and flops:
            by_module['.'.join(parts[1:])] = flops / queries
    top = sum(v for k, v in by_module.items() if '.' not in k)
    by_module['(outside submodules)'] = (total - top) / queries
    result = dict(per_query=total / queries,
                  unsupported_ops=dict(sorted(analyzer.unsupported_ops().items())))
    if depth > 0:
        result['by_module'] = by_module
    return result


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def timed(call: Callable[[], Any], device: str) -> Tuple[float, float]:
    """Wall-clock seconds of one call (device work included) and the process CPU seconds it
    took (all threads; less sensitive than wall time to other processes on a shared CPU)."""
    synchronize(device)
    tic, cpu_tic = time.perf_counter(), time.process_time()
    call()
    synchronize(device)
    return time.perf_counter() - tic, time.process_time() - cpu_tic


def interleaved_timing(calls: Dict[Any, Callable[[], Any]], device: str, warmup: int,
                       repeats: int, budget: float) -> Dict[Any, List[Tuple[float, float]]]:
    """``(wall, cpu)`` seconds of up to ``repeats`` runs per call, after ``warmup`` runs, in
    rounds that run every call once (so load changes hit all alike). A call stops once
    ``budget`` wall seconds (warm-up included) are spent on it; it always gets at least one
    warm-up and one timed run.
    """
    spent = dict.fromkeys(calls, 0.0)
    times: Dict[Any, List[Tuple[float, float]]] = {name: [] for name in calls}
    with torch.no_grad():
        for name, call in calls.items():
            for _ in range(max(warmup, 1)):
                spent[name] += timed(call, device)[0]
                if spent[name] > budget / 2:
                    break
        for _ in range(repeats):
            active = [n for n in calls if not times[n] or spent[n] < budget]
            if not active:
                break
            for name in active:
                times[name].append(timed(calls[name], device))
                spent[name] += times[name][-1][0]
    return times


def median_wall(runs: List[Tuple[float, float]]) -> float:
    return statistics.median(wall for wall, _ in runs)


def summary(runs: List[Tuple[float, float]], queries: int) -> Dict[str, Any]:
    """Median/min/max wall milliseconds per call, median process CPU milliseconds, runs and
    queries per second (from the median wall time)."""
    walls = [wall for wall, _ in runs]
    median = statistics.median(walls)
    return dict(batch=queries, runs=len(runs), median_ms=1e3 * median,
                min_ms=1e3 * min(walls), max_ms=1e3 * max(walls),
                cpu_median_ms=1e3 * statistics.median(cpu for _, cpu in runs),
                queries_per_s=queries / median)


def capped_batch(requested: int, latency_s: float, budget: float) -> int:
    """Largest batch up to ``requested`` whose pass should take at most a third of ``budget``,
    estimated from the batch-1 latency (batching is never slower per query than that)."""
    return max(1, min(requested, math.floor(budget / (3 * latency_s))))


def encodes_video_once(model: BaseGrounder) -> bool:
    return type(model).predict_one_video is not BaseGrounder.predict_one_video


def unique_models(models: Dict[str, BaseGrounder]) -> List[BaseGrounder]:
    return list({id(m): m for m in models.values()}.values())


class ModuleTimer:
    """Wall seconds spent in each submodule of a model down to ``depth`` levels (forward
    hooks), while active as a context manager; ``spent`` is cleared by :meth:`reset`."""

    def __init__(self, model: nn.Module, device: str, depth: int = 2) -> None:
        self.model = model
        self.device = device
        self.depth = depth
        self.spent: Dict[str, float] = {}
        self._starts: Dict[str, float] = {}
        self._handles: List[Any] = []

    def _pre_hook(self, name: str) -> Callable:
        def hook(module: nn.Module, args: Any) -> None:
            synchronize(self.device)
            self._starts[name] = time.perf_counter()
        return hook

    def _post_hook(self, name: str) -> Callable:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            synchronize(self.device)
            elapsed = time.perf_counter() - self._starts.pop(name)
            self.spent[name] = self.spent.get(name, 0.0) + elapsed
        return hook

    def reset(self) -> None:
        self.spent = {}

    def __enter__(self) -> 'ModuleTimer':
        for name, child in self.model.named_modules():
            parts = name.split('.')
            if name and parts[0] != 'data_preprocessor' and len(parts) <= self.depth:
                self._handles += [child.register_forward_pre_hook(self._pre_hook(name)),
                                  child.register_forward_hook(self._post_hook(name))]
        return self

    def __exit__(self, *exc: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def latency_by_module(models: Dict[str, BaseGrounder], calls: Dict[str, Callable[[], Any]],
                      device: str, repeats: int) -> Dict[str, Dict[str, float]]:
    """Median batch-1 wall milliseconds per submodule (two levels) of each model, in
    interleaved rounds of ``repeats``; ``(outside submodules)`` is the rest of the call (span
    decoding, ops run directly in the model's methods)."""
    runs: Dict[str, List[Dict[str, float]]] = {key: [] for key in calls}
    timers = {key: ModuleTimer(models[key], device) for key in calls}
    with torch.no_grad():
        for key in calls:
            with timers[key]:
                calls[key]()
        for _ in range(repeats):
            for key, call in calls.items():
                with timers[key] as timer:
                    timer.reset()
                    total = timed(call, device)[0]
                    runs[key].append(dict(timer.spent, total=total))
    breakdown = {}
    for key, per_run in runs.items():
        names = [n for n in per_run[0] if n != 'total']
        for run in per_run:
            run['(outside submodules)'] = run['total'] - sum(run[n] for n in names
                                                             if '.' not in n)
        breakdown[key] = {name: 1e3 * statistics.median(run[name] for run in per_run)
                          for name in [*names, '(outside submodules)', 'total']}
    return breakdown


def measure_device(models: Dict[str, BaseGrounder],
                   make_batch: Callable[[int, bool], Dict[str, Any]], device: str,
                   args: argparse.Namespace) -> Dict[str, Dict[str, Any]]:
    """Batch-1 latency, throughput and one-video throughput of every model on ``device``."""
    for model in unique_models(models):
        model.to(device)

    def call(key: str, batch: int, method: Optional[str] = None) -> Callable[[], Any]:
        method = method or MODELS[key][2]
        inputs = to_device(make_batch(batch, MODELS[key][2] == 'loss'), device)
        if method == 'predict_one_video':
            inputs = one_video_inputs(inputs)
        elif method == 'repeated':
            method, inputs = 'predict_spans', repeated_video_inputs(inputs)
        return call_of(models[key], method, inputs)

    def timing(calls: Dict[Any, Callable[[], Any]]) -> Dict[Any, List[float]]:
        return interleaved_timing(calls, device, args.warmup, args.repeats, args.budget)

    results: Dict[str, Dict[str, Any]] = {}
    latency = timing({key: call(key, 1) for key in MODELS})
    batch = {k: capped_batch(args.batch_size, median_wall(latency[k]), args.budget)
             for k in MODELS}
    throughput = timing({key: call(key, batch[key]) for key in MODELS})
    queries = {k: capped_batch(args.queries_per_video, median_wall(latency[k]),
                               args.budget) for k in MODELS if MODELS[k][2] == 'predict_spans'}
    one_video = timing({(key, mode): call(key, queries[key], mode) for key in queries
                        for mode in ('predict_one_video', 'repeated')})
    by_module = latency_by_module(models, {key: call(key, 1) for key in BREAKDOWN_MODELS},
                                  device, max(1, min(args.repeats, 10)))
    for key in MODELS:
        results[key] = dict(latency_b1=summary(latency[key], 1),
                            throughput=summary(throughput[key], batch[key]))
        if key in queries:
            once = one_video[key, 'predict_one_video']
            repeated = one_video[key, 'repeated']
            results[key]['one_video'] = dict(
                encodes_video_once=encodes_video_once(models[key]),
                once=summary(once, queries[key]), repeated=summary(repeated, queries[key]),
                speedup=median_wall(repeated) / median_wall(once))
        if key in by_module:
            results[key]['latency_b1_by_module_ms'] = by_module[key]
    for model in unique_models(models):
        model.to('cpu')
    return results


def measure_setting(name: str, devices: List[str], args: argparse.Namespace) -> Dict[str, Any]:
    """Sizes, FLOPs and timings of the five models of a setting, with ratios and goals."""
    spec = SETTINGS[name]
    vocab = setting_vocab(name, args.vocab)
    built = {slot: build_model(spec[slot], vocab, args.cfg_options)
             for slot in ('emtm', 'seqpan', 'tan2d', 'scdm')}
    models = {key: built[slot] for key, (_, slot, _) in MODELS.items()}
    emtm = built['emtm']
    shape = dict(max_vlen=emtm.max_vlen, video_dim=emtm.cfg.model.video_dim,
                 words=spec['words'], chars=spec['chars'],
                 vocab_size=len(load_word_vocabulary(vocab)), num_teachers=emtm.num_teachers)
    rng = np.random.default_rng(args.seed)
    cache: Dict[Tuple[int, bool], Dict[str, Any]] = {}

    def make_batch(batch: int, training: bool) -> Dict[str, Any]:
        if (batch, training) not in cache:
            cache[batch, training] = to_device(
                synthetic_batch(emtm.to('cpu'), batch, shape, training, rng), 'cpu')
        return cache[batch, training]

    load_start = os.getloadavg()
    entries = {}
    for key, (label, slot, method) in MODELS.items():
        model = models[key]
        modules = model.parameter_groups()['student'] if key == 'student' else [model]
        entries[key] = dict(name=label, config=spec[slot], method=method,
                            params=count_parameters(modules),
                            flops=flop_analysis(model, method, make_batch(1, method == 'loss')))
    queries = args.queries_per_video
    entries['student']['flops_one_video'] = flop_analysis(
        emtm, 'predict_one_video', one_video_inputs(make_batch(queries, False)), queries, depth=0)
    timings = {device: measure_device(models, make_batch, device, args) for device in devices}
    for key in MODELS:
        entries[key]['devices'] = {device: timings[device][key] for device in devices}
    ratios = compare(entries, devices)
    return dict(inputs=dict(shape, vocab=vocab, batch_size=args.batch_size,
                            queries_per_video=queries),
                load_average=dict(start=list(load_start), end=list(os.getloadavg())),
                models=entries, ratios=ratios, goals=check_goals(ratios, devices))


def compare(entries: Dict[str, Any], devices: List[str]) -> Dict[str, Any]:
    """Student against every other model: FLOP and parameter ratios (student / other),
    batch-1 speed-ups (other / student; from the median wall time, the best wall time and the
    median CPU time) and throughput ratios (student / other) per device."""
    student = entries['student']
    ratios = {}
    speedups = dict(latency_speedup='median_ms', latency_speedup_best='min_ms',
                    cpu_time_speedup='cpu_median_ms')
    for key in (*TEACHERS, 'emtm_training'):
        other = entries[key]
        row = dict(flops_ratio=student['flops']['per_query'] / other['flops']['per_query'],
                   params_ratio=student['params']['trainable'] / other['params']['trainable'],
                   throughput_ratio={}, **{name: {} for name in speedups})
        for device in devices:
            mine, theirs = student['devices'][device], other['devices'][device]
            for name, stat in speedups.items():
                row[name][device] = theirs['latency_b1'][stat] / mine['latency_b1'][stat]
            row['throughput_ratio'][device] = (mine['throughput']['queries_per_s']
                                               / theirs['throughput']['queries_per_s'])
        ratios[key] = row
    return ratios


def check_goals(ratios: Dict[str, Any], devices: List[str]) -> Dict[str, Any]:
    """The efficiency goals (stated for TACoS) checked on this setting's ratios."""
    goals = {}
    for key, text, value_key, op, threshold, teacher in GOALS:
        value = ratios[teacher][value_key]
        values = value if isinstance(value, dict) else dict(all=value)
        met = {k: (v <= threshold if op == '<=' else v >= threshold) for k, v in values.items()}
        goals[key] = dict(goal=text, threshold=threshold, comparison=op, values=values,
                          met=all(met.values()), met_per_value=met)
    return goals


# ---------------------------------------------------------------------------------------------
# Report


def macs(value: float) -> str:
    return f'{value / 1e9:.3f} G' if value >= 1e8 else f'{value / 1e6:.1f} M'


def rate(queries_per_s: float) -> str:
    return f'{queries_per_s:.1f}' if queries_per_s >= 10 else f'{queries_per_s:.3g}'


def report(name: str, result: Dict[str, Any], devices: List[str], threads: int) -> str:
    """Plain-text tables of one setting."""
    shape, entries, ratios = result['inputs'], result['models'], result['ratios']
    load = result['load_average']
    lines = [f'== {name}: L={shape["max_vlen"]} clips x {shape["video_dim"]}-d, '
             f'{shape["words"]} words x {shape["chars"]} letters; {threads} CPU threads; load '
             f'average (1 min) {load["start"][0]:.2f} -> {load["end"][0]:.2f}']
    rows = []
    for key, entry in entries.items():
        ratio = ratios.get(key, {}).get('flops_ratio')
        rows.append([entry['name'], f'{entry["params"]["trainable"]:,d}',
                     f'{entry["params"]["total"]:,d}', macs(entry['flops']['per_query']),
                     '' if ratio is None else f'{ratio:.4f}'])
    lines += ['', format_table(['model', 'trainable params', 'total params', 'MACs/query',
                                'student/model MACs'], rows)]
    for device in devices:
        rows = []
        for key, entry in entries.items():
            timing = entry['devices'][device]
            lat, thr = timing['latency_b1'], timing['throughput']
            ratio = ratios.get(key, {})
            one = timing.get('one_video')
            rows.append([
                entry['name'],
                f'{lat["median_ms"]:.1f} / {lat["min_ms"]:.1f} / {lat["cpu_median_ms"]:.1f} '
                f'({lat["runs"]})',
                '' if not ratio else ' / '.join(
                    f'{ratio[name][device]:.2f}x' for name in
                    ('latency_speedup', 'latency_speedup_best', 'cpu_time_speedup')),
                f'{rate(thr["queries_per_s"])} @{thr["batch"]}',
                '' if one is None else
                f'{rate(one["once"]["queries_per_s"])} / {rate(one["repeated"]["queries_per_s"])} '
                f'@{one["once"]["batch"]}'])
        lines += ['', f'[{device}]', format_table(
            ['model', 'batch-1 ms: median / min / CPU (runs)',
             'model/student: median / min / CPU', 'queries/s @batch',
             'one video: once / repeated q/s @Q'], rows)]
    rows = []
    for goal in result['goals'].values():
        values = ', '.join(f'{k}: {v:.3f}' for k, v in goal['values'].items())
        rows.append([goal['goal'], values, 'met' if goal['met'] else 'NOT met'])
    lines += ['', format_table(['goal', 'value', ''], rows)]
    for key in BREAKDOWN_MODELS:
        flops = entries[key]['flops']['by_module']
        total = entries[key]['flops']['per_query']
        times = [entries[key]['devices'][device]['latency_b1_by_module_ms'] for device in devices]
        rows = []
        for module, value in sorted(flops.items(), key=lambda kv: -kv[1]):
            if value or module in times[0]:
                rows.append([module, macs(value), f'{100 * value / total:.1f}%',
                             *(f'{t[module]:.1f}' if module in t else '' for t in times)])
        rows.append(['total', macs(total), '100.0%', *(f'{t["total"]:.1f}' for t in times)])
        lines += ['', f'per module: {entries[key]["name"]} (batch-1 ms: medians of hooked '
                  'runs)',
                  format_table(['module', 'MACs/query', 'MAC share',
                                *(f'{device} batch-1 ms' for device in devices)], rows)]
    return '\n'.join(lines)


def machine_setup(devices: List[str], args: argparse.Namespace) -> Dict[str, Any]:
    return dict(machine_info(), devices=devices,
                flop_unit='MAC: mmengine FlopAnalyzer counts one fused multiply-add as one flop',
                warmup=args.warmup, repeats=args.repeats, budget_s=args.budget,
                batch_size=args.batch_size, queries_per_video=args.queries_per_video,
                cfg_options=args.cfg_options, seed=args.seed)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    devices = args.devices or (['cpu', 'cuda'] if torch.cuda.is_available() else ['cpu'])
    results = dict(setup=machine_setup(devices, args), settings={})
    for name in args.settings:
        results['settings'][name] = measure_setting(name, devices, args)
        print(report(name, results['settings'][name], devices, args.threads), '\n', flush=True)
    results['setup']['load_average_end'] = list(os.getloadavg())
    dump_json_atomic(results, args.out, indent=2)
    print(f'results written to {args.out}')
    return results


if __name__ == '__main__':
    main()
