"""Measuring every setting: sizes, FLOPs, timings on every backend, ratios and goals."""
import os
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmemtm.benchmarks.reporting import machine_info
from mmemtm.deployment import export_network
from mmemtm.models.grounders import BaseGrounder
from mmemtm.models.utils import decode_spans
from mmemtm.text import load_word_vocabulary
from .backends import (backend_name, encodes_video_once, export_backend_models, models_on,
                       network_call)
from .flops import count_parameters, floor_entry, flop_analysis, gemm_mac_rate
from .goals import check_goals, compare, deployment_goals
from .inputs import (build_model, one_video_inputs, repeated_video_inputs, setting_vocab,
                     synthetic_batch, to_device)
from .options import (BACKENDS, BREAKDOWN_MODELS, INFERENCE_MODELS, MODELS, SETTINGS,
                      BenchmarkOptions, PreviousRelease)
from .report import report, results_table
from .timing import (call_of, capped_batch, interleaved_timing, latency_by_module, median_wall,
                     summary, synced)


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
        torch, ``latency_b1_by_module_ms``; with ``options.previous_release``,
        ``timings['torch']['student']['previous_release_b1']`` is the eager student of the
        previous release (:func:`previous_release_call`).
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
    previous = options.previous_release
    if previous is not None and 'torch' in backends and 'student' in backends['torch'][1]:
        student = backends['torch'][1]['student']
        batch1['torch', 'student', 'previous_release'] = previous_release_call(
            student, inputs_for('student', 1, 'cpu'), previous)
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


def previous_release_call(student: BaseGrounder, inputs: Dict[str, torch.Tensor],
                          previous: PreviousRelease) -> Callable[[], Any]:
    """The eager path of the previous release: the PyTorch student network computed by the
    previous release's layers (``previous.layers``), then ``previous.decode_spans`` with the
    student's decoding settings."""
    network = export_network(student)
    tensors = tuple(inputs[k] for k in ('video', 'video_mask', 'words', 'chars', 'word_mask'))

    def run() -> Dict[str, torch.Tensor]:
        with previous.layers():
            start, end = network(*tensors)
        return previous.decode_spans(start, end, inputs['video_mask'], student.topk,
                                     student.nms_thr, student.max_span_len)
    return run


def decoding_timing(make_batch: Callable[[int, bool], Dict[str, Any]], student: BaseGrounder,
                    options: BenchmarkOptions) -> Dict[str, Any]:
    """Batch-1 milliseconds of the student's span decoding alone on its own logits: the
    vectorised decoding and, with ``options.previous_release``, the previous release's
    (interleaved; medians), with whether their spans agree (``same_spans``)."""
    inputs = make_batch(1, False)
    with torch.no_grad():
        start, end = export_network(student)(*(inputs[k] for k in (
            'video', 'video_mask', 'words', 'chars', 'word_mask')))
    mask = inputs['video_mask']
    args = (student.topk, student.nms_thr, student.max_span_len)
    calls = dict(vectorised=lambda: decode_spans(start, end, mask, *args))
    previous = options.previous_release
    if previous is not None:
        calls['previous_release'] = lambda: previous.decode_spans(start, end, mask, *args)
    times = interleaved_timing(calls, 'cpu', options.warmup, max(options.repeats, 10) * 10,
                               options.budget)
    result = dict({name: summary(runs, 1) for name, runs in times.items()},
                  clips=int(mask.shape[1]))
    if previous is not None:
        result['same_spans'] = torch.equal(calls['vectorised']()['spans'],
                                           calls['previous_release']()['spans'])
    return result


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
                goals=dict(check_goals(ratios, list(timings)),
                           **deployment_goals(entries, options.floor_goal,
                                              options.end_to_end_goal)))


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
                 cfg_options=options.cfg_options, seed=options.seed,
                 floor_goal=options.floor_goal, end_to_end_goal=options.end_to_end_goal,
                 previous_release_baseline=options.previous_release is not None)
    if 'onnxruntime' in options.backends:
        import onnxruntime
        setup['onnxruntime'] = onnxruntime.__version__
    settings = {}
    for name in options.settings:
        settings[name] = measure_setting(name, devices, options)
        print(report(name, settings[name], options.threads), '\n', flush=True)
    setup['load_average_end'] = list(os.getloadavg())
    return dict(setup=setup, results=results_table(settings), settings=settings)
