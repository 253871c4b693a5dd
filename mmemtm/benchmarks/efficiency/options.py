"""What the efficiency benchmark measures: the models, the settings, the backends, and the
options of a run."""
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Dict, NamedTuple, Optional, Sequence

import torch

import mmemtm

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


class PreviousRelease(NamedTuple):
    """The eager inference path of the previous release (the baseline of the end-to-end goal),
    given by the caller: this package patches no layer code.

    Attributes:
        layers: ``layers()`` is a context manager within which the student's layers compute as
            in the previous release.
        decode_spans: The previous release's span decoding; it takes the arguments of
            :func:`mmemtm.models.utils.decode_spans` (``start_logits``, ``end_logits`` ``[B,
            L]``, ``mask`` ``[B, L]``, ``k``, ``nms_thr``, ``max_len``) and returns its
            ``spans`` ``[B, k, 2]`` (clip indices) and ``scores``.
    """
    layers: Callable[[], ContextManager[None]]
    decode_spans: Callable[..., Dict[str, torch.Tensor]]


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
        floor_goal: Goal of the student's batch-1 latency as a multiple of its compute floor
            (None: not checked; :func:`~.goals.deployment_goals`).
        end_to_end_goal: Goal of the student's end-to-end speed-up over the eager path of the
            previous release (None: not checked).
        previous_release: The eager path of the previous release, timed as the baseline of
            ``end_to_end_goal`` (None: no baseline).
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
    floor_goal: Optional[float] = None
    end_to_end_goal: Optional[float] = None
    previous_release: Optional[PreviousRelease] = None
