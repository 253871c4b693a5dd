"""Efficiency of EMTM's student against its teachers, per inference backend.

The library behind ``tools/analysis/benchmark_efficiency.py`` (see that tool and
docs/benchmarks.md). For every setting (the real-data configs ``configs/emtm_<setting>.py`` and
``configs/teachers/{seqpan,tan2d,scdm}_<setting>.py``, built with ``model.vocab`` pointed at a
GloVe subset that exists here) the models get synthetic inputs of the setting's shapes: ``L =
max_vlen`` clips of ``video_dim`` features (all valid), a typical query length and word width.
Five models are measured in one run, so that their ratios are meaningful:

* ``student``: EMTM's inference path (:meth:`EMTM.predict_spans`: shared encoder + student
  head + span decoding);
* ``span_teacher`` (SeqPAN), ``map_teacher`` (2D-TAN), ``proposal_teacher`` (SCDM):
  ``predict_spans``;
* ``emtm_training``: the training-time EMTM model (student + co-trained teacher + KAU), its
  ``loss`` forward (no backward; PyTorch only).

Backends: ``torch`` (eager PyTorch; ``torch-cuda`` per CUDA device) and ``onnxruntime`` (the
network exported by :func:`mmemtm.deployment.export_onnx`, parity-checked, run by
:class:`~mmemtm.deployment.OnnxRuntimeGrounder` with the same decoding).

Per model: trainable and total parameters (frozen GloVe table in the total only); FLOPs per
query from mmengine's :class:`~mmengine.analysis.FlopAnalyzer` at batch 1 (mmengine counts one
fused multiply-add as one flop, so the numbers are multiply-accumulates, MACs), with the ops it
skips and a per-module breakdown. Per model and backend: batch-1 latency of the whole call
(network + decoding) and of the network alone (median over runs after warm-up, eval mode,
``torch.no_grad()``); the **compute floor**, the model's MACs divided by the multiply-accumulate
rate of a float32 GEMM measured in the same run at the same thread count, and the latency as a
multiple of it; throughput at ``batch_size``; and, for ``queries_per_video`` sentences about one
video, the throughput of ``predict_one_video`` (EMTM encodes the video once) against
``predict_spans`` with the video repeated. The baseline of the end-to-end goal, *the eager path
of the previous release*, is timed too: the eager student network with the previous release's
layer code, followed by the per-query loop decoding that the vectorised one replaced
(:mod:`mmemtm.apis.previous_release`).

All batch-1 calls of all backends are timed in interleaved rounds, so a load change on a shared
machine hits all of them alike, and the load average is recorded before and after; ``budget``
bounds the seconds spent per call and measurement (a very slow model gets fewer runs and, for
throughput, a smaller batch: the batch used is reported).
"""
import copy
import math
import os
import os.path as osp
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.utils import ProgressBar

import mmemtm
from mmemtm.datasets.transforms import span_targets
from mmemtm.deployment import OnnxRuntimeGrounder, export_network, export_onnx
from mmemtm.models.grounders import BaseGrounder
from mmemtm.models.utils import decode_spans
from mmemtm.structures import GroundingDataSample
from mmemtm.text import CharVocabulary, load_word_vocabulary
from mmemtm.utils import format_table, machine_info
from .inference import init_grounder
from .previous_release import previous_release_decode_spans, previous_release_layers

#: The checkout holding ``configs/`` and ``demo/`` (the parent of the package folder).
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(mmemtm.__file__)))

#: Measured models: key -> (display name, config slot, method).
MODELS = {
    'student': ('EMTM student', 'emtm', 'predict_spans'),
    'span_teacher': ('SeqPAN (span teacher)', 'seqpan', 'predict_spans'),
    'map_teacher': ('2D-TAN (2-D map teacher)', 'tan2d', 'predict_spans'),
    'proposal_teacher': ('SCDM (proposal teacher)', 'scdm', 'predict_spans'),
    'emtm_training': ('EMTM training (loss fwd)', 'emtm', 'loss'),
}
TEACHERS = ('span_teacher', 'map_teacher', 'proposal_teacher')
#: Models with an inference network (exportable to ONNX).
INFERENCE_MODELS = ('student', *TEACHERS)
#: Models whose batch-1 latency is also broken down by top-level submodule (PyTorch).
BREAKDOWN_MODELS = ('student', 'span_teacher')
#: Backends (``torch`` on the CPU; ``torch-<device>`` on other torch devices).
BACKENDS = ('torch', 'onnxruntime')

#: Settings: configs, typical query (words; letters of its longest word, the width of the
#: character tensor) and the GloVe subset used for ``model.vocab`` (relative to the checkout).
#: Query lengths are the train-split means of the real annotations (tokenised as by
#: TokenizeQuery): TACoS 9.3 words, Charades-STA 7.2, ActivityNet Captions 14.7; longest word 7.1
#: / 7.0 / 8.0 letters. There is no ActivityNet GloVe subset here; the TACoS one stands in (it
#: changes only the size of the frozen table, not the FLOPs or the speed).
SHARED_GLOVE = osp.join('..', 'shared', 'data', 'glove_subsets')
DEMO_GLOVE = osp.join('demo', 'data', 'tacos_subset', 'glove')
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
#: Deployment goals of the student at batch 1 (:func:`deployment_goals`).
FLOOR_GOAL = 1.5
END_TO_END_GOAL = 2.5


@dataclass
class BenchmarkOptions:
    """What :func:`run_efficiency_benchmark` measures (the tool's command-line options).

    Attributes:
        settings: Settings to measure (keys of :data:`SETTINGS`).
        vocab: GloVe subset per setting overriding :data:`SETTINGS`.
        threads: torch and ONNX Runtime CPU threads.
        batch_size: Batch of the throughput.
        queries_per_video: Sentences about one video (encode-once measurement).
        warmup: Untimed runs per measurement.
        repeats: Timed runs per measurement.
        budget: Seconds per call and measurement (fewer runs, smaller batch).
        devices: torch devices (default: cpu, and cuda when available).
        models: Models to measure (keys of :data:`MODELS`; the student always).
        backends: Backends to measure (:data:`BACKENDS`).
        onnx_models: Models run in ONNX Runtime (of :data:`INFERENCE_MODELS`).
        onnx_dir: Folder of the exported graphs.
        gemm_size: Side of the square float32 GEMM of the compute floor.
        cfg_options: Overrides merged into every model config.
        seed: Seed of the synthetic inputs.
        root: The checkout holding ``configs/`` and ``demo/``.
    """
    settings: Sequence[str] = ('tacos', 'charades', 'anet')
    vocab: Dict[str, str] = field(default_factory=dict)
    threads: int = 1
    batch_size: int = 32
    queries_per_video: int = 32
    warmup: int = 3
    repeats: int = 30
    budget: float = 60.0
    devices: Optional[Sequence[str]] = None
    models: Sequence[str] = tuple(MODELS)
    backends: Sequence[str] = BACKENDS
    onnx_models: Sequence[str] = INFERENCE_MODELS
    onnx_dir: str = 'work_dirs/benchmarks/onnx'
    gemm_size: int = 1024
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    root: str = REPO_ROOT


# ---------------------------------------------------------------------------------------------
# Models and inputs


def setting_vocab(name: str, options: BenchmarkOptions) -> str:
    """GloVe subset of a setting: the ``vocab`` override, else the default if it exists, else
    the bundled demo GloVe."""
    path = options.vocab.get(name, osp.join(options.root, SETTINGS[name]['vocab']))
    if not osp.isdir(path) and not osp.isfile(path):
        if name in options.vocab:
            raise FileNotFoundError(f'--vocab {name}={path}: no such GloVe subset')
        path = osp.join(options.root, DEMO_GLOVE)
    return osp.abspath(path)


def build_model(config: str, vocab: str, options: BenchmarkOptions) -> BaseGrounder:
    """The model of ``config`` (random weights, eval mode, CPU) with ``model.vocab`` set."""
    cfg_options = dict(options.cfg_options)
    cfg_options['model.vocab'] = vocab
    return init_grounder(osp.join(options.root, config), cfg_options=cfg_options)


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


def gemm_mac_rate(size: int = 1024, repeats: int = 10) -> Dict[str, float]:
    """Sustained multiply-accumulate rate of this CPU at the current torch thread count: the
    median time of a float32 ``[size, size] @ [size, size]`` GEMM (``size**3`` MACs) after one
    warm-up run.

    Returns:
        dict: ``macs_per_s`` (from the median), ``best_macs_per_s``, ``size``, ``runs``,
        ``threads``.
    """
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - tic)
    macs = float(size) ** 3
    return dict(macs_per_s=macs / statistics.median(times), best_macs_per_s=macs / min(times),
                size=size, runs=repeats, threads=torch.get_num_threads())


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
                       repeats: int, budget: float,
                       progress: Optional[ProgressBar] = None
                       ) -> Dict[Any, List[Tuple[float, float]]]:
    """``(wall, cpu)`` seconds of up to ``repeats`` runs per call, after ``warmup`` runs, in
    rounds that run every call once (so load changes hit all alike). A call stops once
    ``budget`` wall seconds (warm-up included) are spent on it; it always gets at least one
    warm-up and one timed run. ``progress`` advances once per round.
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
            if progress is not None:
                progress.update()
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
    """Whether ``predict_one_video`` encodes the video once for all queries (EMTM's student, in
    PyTorch or in its exported graph)."""
    if isinstance(model, OnnxRuntimeGrounder):
        return model.spec.model_type == 'EMTM'
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




def backend_name(device: str) -> str:
    """``torch`` on the CPU, ``torch-<device>`` elsewhere."""
    return 'torch' if device == 'cpu' else f'torch-{device}'


def synced(call: Callable[[], Any], device: str) -> Callable[[], Any]:
    """``call`` followed by a device synchronisation (so CPU timers see the device work)."""
    def run() -> Any:
        out = call()
        synchronize(device)
        return out
    return run


def network_call(model: BaseGrounder, inputs: Dict[str, torch.Tensor]) -> Callable[[], Any]:
    """The network alone (no decoding): the export network's forward in PyTorch, the graph's
    run in ONNX Runtime."""
    if isinstance(model, OnnxRuntimeGrounder):
        return lambda: model.network_outputs(inputs)
    network = export_network(model)
    tensors = tuple(inputs[k] for k in ('video', 'video_mask', 'words', 'chars', 'word_mask'))
    return lambda: network(*tensors)


def export_backend_models(models: Dict[str, BaseGrounder], setting: str,
                          options: BenchmarkOptions) -> Tuple[Dict[str, OnnxRuntimeGrounder],
                                                              Dict[str, Any]]:
    """``models`` exported to ``onnx_dir`` (parity-checked) and loaded in ONNX Runtime with
    ``threads`` threads; and per model the file and its parity."""
    grounders, exports = {}, {}
    for key in models:
        path = osp.join(options.onnx_dir, f'{setting}_{key}.onnx')
        report = export_onnx(models[key], path, num_threads=options.threads)
        grounder = OnnxRuntimeGrounder(path, options.threads, data_preprocessor=dict(
            type='GroundingDataPreprocessor', max_vlen=models[key].data_preprocessor.max_vlen))
        grounders[key] = grounder.eval()
        exports[key] = dict(file=path, parity_max_abs_diff=report.max_abs_diff)
    return grounders, exports


def measure_backends(backends: Dict[str, Tuple[str, Dict[str, BaseGrounder]]],
                     make_batch: Callable[[int, bool], Dict[str, Any]],
                     options: BenchmarkOptions) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """Batch-1 latency (whole call and network alone), throughput and one-video throughput of
    every model on every backend, and the eager baseline of the previous release.

    Args:
        backends: backend name -> (device, models by key).
        make_batch: ``make_batch(batch, training)`` -> inputs on the CPU.
        options: What to measure.

    Returns:
        dict: ``timings[backend][key]`` with ``latency_b1``, ``network_b1`` (inference models),
        ``throughput``, ``one_video`` (inference models) and, for :data:`BREAKDOWN_MODELS` on
        torch, ``latency_b1_by_module_ms``; ``timings['torch']['student']['previous_release']``
        is the eager student of the previous release (:func:`previous_release_call`).
    """
    def inputs_for(key: str, batch: int, device: str) -> Dict[str, Any]:
        return to_device(make_batch(batch, MODELS[key][2] == 'loss'), device)

    def timing(calls: Dict[Any, Callable[[], Any]], what: str) -> Dict[Any, List[tuple]]:
        rounds = max(options.repeats, 1)
        print(f'timing {what}: {len(calls)} calls in up to {rounds} interleaved rounds')
        return interleaved_timing(calls, 'cpu', options.warmup, options.repeats,
                                  options.budget, ProgressBar(rounds))

    batch1: Dict[tuple, Callable[[], Any]] = {}
    for backend, (device, models) in backends.items():
        for key, model in models.items():
            inputs = inputs_for(key, 1, device)
            batch1[backend, key, 'call'] = synced(call_of(model, MODELS[key][2], inputs), device)
            if key in INFERENCE_MODELS:
                batch1[backend, key, 'network'] = synced(network_call(model, inputs), device)
    if 'torch' in backends and 'student' in backends['torch'][1]:
        student = backends['torch'][1]['student']
        batch1['torch', 'student', 'previous_release'] = previous_release_call(
            student, inputs_for('student', 1, 'cpu'))
    latency = timing(batch1, 'batch-1 latency')
    print()

    batches = {(backend, key): capped_batch(options.batch_size,
                                            median_wall(latency[backend, key, 'call']),
                                            options.budget)
               for backend, (_, models) in backends.items() for key in models}
    throughput = timing({
        (backend, key): synced(call_of(model, MODELS[key][2],
                                       inputs_for(key, batches[backend, key], device)), device)
        for backend, (device, models) in backends.items() for key, model in models.items()},
        'throughput')
    print()

    queries = {(backend, key): capped_batch(options.queries_per_video,
                                            median_wall(latency[backend, key, 'call']),
                                            options.budget)
               for backend, (_, models) in backends.items() for key in models
               if key in INFERENCE_MODELS}
    one_video_calls = {}
    for (backend, key), count in queries.items():
        device, model = backends[backend][0], backends[backend][1][key]
        inputs = inputs_for(key, count, device)
        one_video_calls[backend, key, 'once'] = synced(
            call_of(model, 'predict_one_video', one_video_inputs(inputs)), device)
        one_video_calls[backend, key, 'repeated'] = synced(
            call_of(model, 'predict_spans', repeated_video_inputs(inputs)), device)
    one_video = timing(one_video_calls, 'one video, many queries')
    print()

    results: Dict[str, Dict[str, Dict[str, Any]]] = {}
    for backend, (device, models) in backends.items():
        results[backend] = {}
        breakdown = {}
        if backend.startswith('torch'):
            breakdown = latency_by_module(
                {k: models[k] for k in BREAKDOWN_MODELS if k in models},
                {k: call_of(models[k], MODELS[k][2], inputs_for(k, 1, device))
                 for k in BREAKDOWN_MODELS if k in models},
                device, max(1, min(options.repeats, 10)))
        for key, model in models.items():
            entry = dict(latency_b1=summary(latency[backend, key, 'call'], 1),
                         throughput=summary(throughput[backend, key], batches[backend, key]))
            if key in INFERENCE_MODELS:
                entry['network_b1'] = summary(latency[backend, key, 'network'], 1)
                once = one_video[backend, key, 'once']
                repeated = one_video[backend, key, 'repeated']
                count = queries[backend, key]
                entry['one_video'] = dict(
                    encodes_video_once=encodes_video_once(model), once=summary(once, count),
                    repeated=summary(repeated, count),
                    speedup=median_wall(repeated) / median_wall(once))
            if (backend, key, 'previous_release') in latency:
                entry['previous_release_b1'] = summary(
                    latency[backend, key, 'previous_release'], 1)
            if key in breakdown:
                entry['latency_b1_by_module_ms'] = breakdown[key]
            results[backend][key] = entry
    return results


def previous_release_call(student: BaseGrounder,
                          inputs: Dict[str, torch.Tensor]) -> Callable[[], Any]:
    """The eager path of the previous release: the PyTorch student network computed by the
    previous release's layers (:func:`previous_release_layers`), then
    :func:`previous_release_decode_spans` with the student's decoding settings."""
    network = export_network(student)
    tensors = tuple(inputs[k] for k in ('video', 'video_mask', 'words', 'chars', 'word_mask'))

    def run() -> Dict[str, torch.Tensor]:
        with previous_release_layers():
            start, end = network(*tensors)
        return previous_release_decode_spans(start, end, inputs['video_mask'], student.topk,
                                       student.nms_thr, student.max_span_len)
    return run


def decoding_timing(make_batch: Callable[[int, bool], Dict[str, Any]], student: BaseGrounder,
                    options: BenchmarkOptions) -> Dict[str, Any]:
    """Batch-1 milliseconds of the student's span decoding alone on its own logits: the
    vectorised decoding and the previous release's (interleaved; medians), with whether their
    spans agree."""
    inputs = make_batch(1, False)
    with torch.no_grad():
        start, end = export_network(student)(*(inputs[k] for k in (
            'video', 'video_mask', 'words', 'chars', 'word_mask')))
    mask = inputs['video_mask']
    args = (student.topk, student.nms_thr, student.max_span_len)
    calls = dict(vectorised=lambda: decode_spans(start, end, mask, *args),
                 previous_release=lambda: previous_release_decode_spans(start, end, mask, *args))
    times = interleaved_timing(calls, 'cpu', options.warmup, max(options.repeats, 10) * 10,
                               options.budget)
    same = torch.equal(calls['vectorised']()['spans'], calls['previous_release']()['spans'])
    return dict({name: summary(runs, 1) for name, runs in times.items()},
                same_spans=same, clips=int(mask.shape[1]))


def models_on(models: Dict[str, BaseGrounder], device: str) -> Dict[str, BaseGrounder]:
    """``models`` on ``device``: themselves on the CPU, copies elsewhere (every backend's models
    are timed side by side, so each keeps its own)."""
    if device == 'cpu':
        return models
    copies = {id(m): copy.deepcopy(m).to(device) for m in unique_models(models)}
    return {key: copies[id(model)] for key, model in models.items()}


def floor_entry(macs: float, rate: Dict[str, float], latency_ms: float) -> Dict[str, float]:
    """The compute floor of ``macs`` at the measured GEMM ``rate`` and ``latency_ms`` as a
    multiple of it."""
    floor_ms = 1e3 * macs / rate['macs_per_s']
    return dict(floor_ms=floor_ms, x_floor=latency_ms / floor_ms)


def measure_setting(name: str, devices: List[str], options: BenchmarkOptions) -> Dict[str, Any]:
    """Sizes, FLOPs and timings of the ``models`` of a setting on every backend, with the
    compute floor, ratios and goals."""
    spec = SETTINGS[name]
    vocab = setting_vocab(name, options)
    slots = {'emtm'} | {MODELS[key][1] for key in options.models}
    built = {slot: build_model(spec[slot], vocab, options) for slot in sorted(slots)}
    models = {key: built[MODELS[key][1]] for key in MODELS if key in options.models}
    emtm = built['emtm']
    shape = dict(max_vlen=emtm.max_vlen, video_dim=emtm.cfg.model.video_dim,
                 words=spec['words'], chars=spec['chars'],
                 vocab_size=len(load_word_vocabulary(vocab)), num_teachers=emtm.num_teachers)
    rng = np.random.default_rng(options.seed)
    cache: Dict[Tuple[int, bool], Dict[str, Any]] = {}

    def make_batch(batch: int, training: bool) -> Dict[str, Any]:
        if (batch, training) not in cache:
            cache[batch, training] = to_device(
                synthetic_batch(emtm.to('cpu'), batch, shape, training, rng), 'cpu')
        return cache[batch, training]

    load_start = os.getloadavg()
    entries = {}
    for key, model in models.items():
        label, slot, method = MODELS[key]
        modules = model.parameter_groups()['student'] if key == 'student' else [model]
        entries[key] = dict(name=label, config=spec[slot], method=method,
                            params=count_parameters(modules),
                            flops=flop_analysis(model, method, make_batch(1, method == 'loss')))
    queries = options.queries_per_video
    entries['student']['flops_one_video'] = flop_analysis(
        emtm, 'predict_one_video', one_video_inputs(make_batch(queries, False)), queries, depth=0)

    backends: Dict[str, Tuple[str, Dict[str, BaseGrounder]]] = {}
    if 'torch' in options.backends:
        for device in devices:
            backends[backend_name(device)] = (device, models_on(models, device))
    exports = {}
    if 'onnxruntime' in options.backends:
        onnx_models, exports = export_backend_models(
            {k: m for k, m in models.items() if k in options.onnx_models}, name, options)
        backends['onnxruntime'] = ('cpu', onnx_models)
    rate_start = gemm_mac_rate(options.gemm_size)
    timings = measure_backends(backends, make_batch, options)
    decoding = decoding_timing(make_batch, emtm, options)
    rate_end = gemm_mac_rate(options.gemm_size)
    rate = max(rate_start, rate_end, key=lambda r: r['macs_per_s'])
    for key in models:
        entries[key]['backends'] = {}
        for backend in timings:
            if key not in timings[backend]:
                continue
            entry = timings[backend][key]
            entry.update(floor_entry(entries[key]['flops']['per_query'], rate,
                                     entry['latency_b1']['median_ms']))
            if 'network_b1' in entry:
                entry['network_x_floor'] = (entry['network_b1']['median_ms']
                                            / entry['floor_ms'])
            entries[key]['backends'][backend] = entry
        if key in exports:
            entries[key]['onnx'] = exports[key]
    ratios = compare(entries, list(timings))
    return dict(inputs=dict(shape, vocab=vocab, batch_size=options.batch_size,
                            queries_per_video=queries),
                load_average=dict(start=list(load_start), end=list(os.getloadavg())),
                gemm=dict(start=rate_start, end=rate_end, used=rate),
                models=entries, decoding=decoding, ratios=ratios,
                goals=dict(check_goals(ratios, list(timings)), **deployment_goals(entries)))


def compare(entries: Dict[str, Any], backends: List[str]) -> Dict[str, Any]:
    """Student against every other model: FLOP and parameter ratios (student / other),
    batch-1 speed-ups (other / student; from the median wall time, the best wall time and the
    median CPU time) and throughput ratios (student / other) per backend."""
    student = entries['student']
    ratios = {}
    speedups = dict(latency_speedup='median_ms', latency_speedup_best='min_ms',
                    cpu_time_speedup='cpu_median_ms')
    for key in (*TEACHERS, 'emtm_training'):
        if key not in entries:
            continue
        other = entries[key]
        row = dict(flops_ratio=student['flops']['per_query'] / other['flops']['per_query'],
                   params_ratio=student['params']['trainable'] / other['params']['trainable'],
                   throughput_ratio={}, **{name: {} for name in speedups})
        for backend in backends:
            if backend not in other['backends'] or backend not in student['backends']:
                continue
            mine, theirs = student['backends'][backend], other['backends'][backend]
            for name, stat in speedups.items():
                row[name][backend] = theirs['latency_b1'][stat] / mine['latency_b1'][stat]
            row['throughput_ratio'][backend] = (mine['throughput']['queries_per_s']
                                                / theirs['throughput']['queries_per_s'])
        ratios[key] = row
    return ratios


def check_goals(ratios: Dict[str, Any], backends: List[str]) -> Dict[str, Any]:
    """The efficiency goals (stated for TACoS) checked on this setting's ratios."""
    goals = {}
    for key, text, value_key, op, threshold, teacher in GOALS:
        if teacher not in ratios:
            continue
        value = ratios[teacher][value_key]
        values = value if isinstance(value, dict) else dict(all=value)
        met = {k: (v <= threshold if op == '<=' else v >= threshold) for k, v in values.items()}
        goals[key] = dict(goal=text, threshold=threshold, comparison=op, values=values,
                          met=all(met.values()), met_per_value=met)
    return goals


def deployment_goals(entries: Dict[str, Any]) -> Dict[str, Any]:
    """The student's batch-1 goals on its fastest backend: latency within :data:`FLOOR_GOAL`
    times its compute floor, and :data:`END_TO_END_GOAL` times faster end to end (network +
    decoding) than the eager path of the previous release (same run)."""
    student = entries['student']['backends']
    if not student:
        return {}
    fastest = min(student, key=lambda b: student[b]['latency_b1']['median_ms'])
    best = student[fastest]
    goals = dict(student_floor=dict(
        goal=f'student batch-1 <= {FLOOR_GOAL}x its compute floor (fastest backend)',
        threshold=FLOOR_GOAL, comparison='<=', values={fastest: best['x_floor']},
        met=best['x_floor'] <= FLOOR_GOAL))
    baseline = student.get('torch', {}).get('previous_release_b1')
    if baseline is not None:
        speedup = baseline['median_ms'] / best['latency_b1']['median_ms']
        goals['student_end_to_end'] = dict(
            goal=f'student >= {END_TO_END_GOAL}x faster end to end than the eager path of the '
            'previous release', threshold=END_TO_END_GOAL, comparison='>=',
            values={fastest: speedup}, met=speedup >= END_TO_END_GOAL)
    return goals


def results_table(settings: Dict[str, Any]) -> Dict[str, Dict[str, Dict[str, Dict[str, Any]]]]:
    """For scripts: ``table[setting][model][backend]`` with ``latency_ms_median``,
    ``latency_ms_min``, ``network_ms_median``, ``macs``, ``floor_ms``, ``x_floor`` and
    ``queries_per_s`` (at the throughput batch)."""
    table: Dict[str, Dict[str, Dict[str, Dict[str, Any]]]] = {}
    for name, result in settings.items():
        table[name] = {}
        for key, entry in result['models'].items():
            table[name][key] = {}
            for backend, timing in entry['backends'].items():
                row = dict(latency_ms_median=timing['latency_b1']['median_ms'],
                           latency_ms_min=timing['latency_b1']['min_ms'],
                           macs=entry['flops']['per_query'], floor_ms=timing['floor_ms'],
                           x_floor=timing['x_floor'],
                           queries_per_s=timing['throughput']['queries_per_s'])
                if 'network_b1' in timing:
                    row['network_ms_median'] = timing['network_b1']['median_ms']
                if 'previous_release_b1' in timing:
                    row['previous_release_ms_median'] = timing['previous_release_b1'][
                        'median_ms']
                table[name][key][backend] = row
    return table


# ---------------------------------------------------------------------------------------------
# Report


def macs(value: float) -> str:
    return f'{value / 1e9:.3f} G' if value >= 1e8 else f'{value / 1e6:.1f} M'


def rate(queries_per_s: float) -> str:
    return f'{queries_per_s:.1f}' if queries_per_s >= 10 else f'{queries_per_s:.3g}'


def report(name: str, result: Dict[str, Any], threads: int) -> str:
    """Plain-text tables of one setting."""
    shape, entries, ratios = result['inputs'], result['models'], result['ratios']
    load, gemm = result['load_average'], result['gemm']['used']
    lines = [f'== {name}: L={shape["max_vlen"]} clips x {shape["video_dim"]}-d, '
             f'{shape["words"]} words x {shape["chars"]} letters; {threads} CPU threads; load '
             f'average (1 min) {load["start"][0]:.2f} -> {load["end"][0]:.2f}; float32 GEMM '
             f'{gemm["macs_per_s"] / 1e9:.1f} GMAC/s (compute floor = MACs / that rate)']
    rows = []
    for key, entry in entries.items():
        ratio = ratios.get(key, {}).get('flops_ratio')
        rows.append([entry['name'], f'{entry["params"]["trainable"]:,d}',
                     f'{entry["params"]["total"]:,d}', macs(entry['flops']['per_query']),
                     '' if ratio is None else f'{ratio:.4f}'])
    lines += ['', format_table(['model', 'trainable params', 'total params', 'MACs/query',
                                'student/model MACs'], rows)]
    rows = []
    for key, entry in entries.items():
        for backend, timing in entry['backends'].items():
            lat, thr = timing['latency_b1'], timing['throughput']
            network = timing.get('network_b1')
            one = timing.get('one_video')
            speedup = ratios.get(key, {}).get('latency_speedup', {}).get(backend)
            rows.append([
                entry['name'], backend,
                f'{lat["median_ms"]:.2f} / {lat["min_ms"]:.2f} / {lat["cpu_median_ms"]:.2f} '
                f'({lat["runs"]})',
                '' if network is None else f'{network["median_ms"]:.2f}',
                f'{timing["floor_ms"]:.2f}', f'{timing["x_floor"]:.2f}x',
                '' if speedup is None else f'{speedup:.2f}x',
                f'{rate(thr["queries_per_s"])} @{thr["batch"]}',
                '' if one is None else
                f'{rate(one["once"]["queries_per_s"])} / {rate(one["repeated"]["queries_per_s"])} '
                f'@{one["once"]["batch"]}'])
    lines += ['', format_table(
        ['model', 'backend', 'batch-1 ms: median / min / CPU (runs)', 'network ms', 'floor ms',
         'x floor', 'model/student', 'queries/s @batch', 'one video: once / repeated q/s @Q'],
        rows)]
    student = entries['student']['backends']
    baseline = student.get('torch', {}).get('previous_release_b1')
    decoding = result['decoding']
    lines += ['', f'student decoding alone (batch 1, L={decoding["clips"]}): vectorised '
              f'{decoding["vectorised"]["median_ms"]:.3f} ms, previous release '
              f'{decoding["previous_release"]["median_ms"]:.3f} ms, same spans: '
              f'{decoding["same_spans"]}']
    if baseline is not None:
        lines.append(f'student end to end, eager path of the previous release (network + loop '
                     f'decoding): {baseline["median_ms"]:.2f} ms; ' + ', '.join(
                         f'{b}: {t["latency_b1"]["median_ms"]:.2f} ms '
                         f'({baseline["median_ms"] / t["latency_b1"]["median_ms"]:.2f}x faster)'
                         for b, t in student.items()))
    rows = []
    for goal in result['goals'].values():
        values = ', '.join(f'{k}: {v:.3f}' for k, v in goal['values'].items())
        rows.append([goal['goal'], values, 'met' if goal['met'] else 'NOT met'])
    lines += ['', format_table(['goal', 'value', ''], rows)]
    for key in (k for k in BREAKDOWN_MODELS if k in entries):
        flops = entries[key]['flops']['by_module']
        total = entries[key]['flops']['per_query']
        torch_backends = [b for b in entries[key]['backends'] if b.startswith('torch')]
        times = [entries[key]['backends'][b]['latency_b1_by_module_ms'] for b in torch_backends]
        if not times:
            continue
        rows = []
        for module, value in sorted(flops.items(), key=lambda kv: -kv[1]):
            if value or module in times[0]:
                rows.append([module, macs(value), f'{100 * value / total:.1f}%',
                             *(f'{t[module]:.1f}' if module in t else '' for t in times)])
        rows.append(['total', macs(total), '100.0%', *(f'{t["total"]:.1f}' for t in times)])
        lines += ['', f'per module: {entries[key]["name"]} (batch-1 ms: medians of hooked '
                  'runs)',
                  format_table(['module', 'MACs/query', 'MAC share',
                                *(f'{b} batch-1 ms' for b in torch_backends)], rows)]
    return '\n'.join(lines)


def run_efficiency_benchmark(options: BenchmarkOptions) -> Dict[str, Any]:
    """Measure every setting of ``options`` (printing its tables as it goes).

    Returns:
        dict: ``setup`` (machine, load averages, options), ``results`` (:func:`results_table`:
        ``results[setting][model][backend]['latency_ms_median']``...) and ``settings`` (the
        details per setting: sizes, FLOPs by module, timings, ratios, goals).
    """
    unknown = sorted(set(options.backends) - set(BACKENDS))
    if unknown:
        raise ValueError(f'unknown backends {unknown}; choose from {BACKENDS}')
    if 'student' not in options.models:
        raise ValueError('the benchmark compares every model with the student: include it in '
                         'models')
    torch.set_num_threads(options.threads)
    devices = list(options.devices or (['cpu', 'cuda'] if torch.cuda.is_available()
                                       else ['cpu']))
    setup = dict(machine_info(), devices=devices, backends=list(options.backends),
                 flop_unit='MAC: mmengine FlopAnalyzer counts one fused multiply-add as one flop',
                 warmup=options.warmup, repeats=options.repeats, budget_s=options.budget,
                 batch_size=options.batch_size, queries_per_video=options.queries_per_video,
                 models=list(options.models), onnx_models=list(options.onnx_models),
                 gemm_size=options.gemm_size,
                 cfg_options=options.cfg_options, seed=options.seed)
    if 'onnxruntime' in options.backends:
        import onnxruntime
        setup['onnxruntime'] = onnxruntime.__version__
    settings = {}
    for name in options.settings:
        settings[name] = measure_setting(name, devices, options)
        print(report(name, settings[name], options.threads), '\n', flush=True)
    setup['load_average_end'] = list(os.getloadavg())
    return dict(setup=setup, results=results_table(settings), settings=settings)
