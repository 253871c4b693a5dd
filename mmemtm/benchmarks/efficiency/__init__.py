"""Efficiency of EMTM's student against its teachers, per inference backend.

The library behind ``tools/analysis/benchmark_efficiency.py`` (see that tool and
docs/benchmarks.md): :mod:`.options` (models, settings, what a run measures), :mod:`.inputs`
(models and synthetic inputs), :mod:`.flops` (parameters, MACs, the compute floor's GEMM rate),
:mod:`.timing` (interleaved timing), :mod:`.backends` (PyTorch per device, ONNX Runtime),
:mod:`.goals` (ratios and goals), :mod:`.report` (tables) and :mod:`.measure` (the run).

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
of the previous release*, is timed too when the caller gives it
(:class:`~.options.PreviousRelease`: the tool passes ``tools/analysis/previous_release.py``): the
eager student network with the previous release's layer code, followed by the per-query loop
decoding that the vectorised one replaced. The goals' thresholds are the caller's too.

All batch-1 calls of all backends are timed in interleaved rounds, so a load change on a shared
machine hits all of them alike, and the load average is recorded before and after; ``budget``
bounds the seconds spent per call and measurement (a very slow model gets fewer runs and, for
throughput, a smaller batch: the batch used is reported).
"""
from .goals import check_goals, compare, deployment_goals
from .measure import run_efficiency_benchmark
from .options import (BACKENDS, INFERENCE_MODELS, MODELS, SETTINGS, BenchmarkOptions,
                      PreviousRelease)
from .report import report, results_table

__all__ = [
    'BACKENDS', 'INFERENCE_MODELS', 'MODELS', 'SETTINGS', 'BenchmarkOptions', 'PreviousRelease',
    'check_goals', 'compare', 'deployment_goals', 'report', 'results_table',
    'run_efficiency_benchmark'
]
