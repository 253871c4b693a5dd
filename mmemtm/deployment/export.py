"""Export of a grounder's network to ONNX, checked against PyTorch before the file is written.

Example::

    from mmemtm.apis import init_grounder
    from mmemtm.deployment import export_onnx

    model = init_grounder('configs/emtm_tacos.py', 'emtm_tacos.pth')
    report = export_onnx(model, 'emtm_tacos.onnx')     # raises OnnxParityError if it differs
    print(report.max_abs_diff)

The graph (:mod:`mmemtm.deployment.networks`) is traced with PyTorch's TorchScript-based ONNX
exporter (``torch.onnx.export(..., dynamo=False)``, opset 17). The newer ``torch.export``-based
exporter cannot trace these models: their embedding layers check the range of the word and
character ids with data-dependent Python conditions, which ``torch.export`` rejects. The tracer
records those checks as constants, so :class:`~mmemtm.deployment.runtime.OnnxRuntimeGrounder`
repeats them on its inputs.
"""
import io
import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmemtm.models.encoders.query_embedding import QueryEmbedding
from mmemtm.models.encoders.rnn_sentence_encoder import GloveRNNSentenceEncoder
from mmemtm.models.encoders.video_projection import VideoProjection
from mmemtm.models.grounders import BaseGrounder
from mmemtm.utils import atomic_write
from .networks import INPUTS, OUTPUTS, export_network, reference_outputs

if TYPE_CHECKING:
    import onnxruntime

#: Default largest tolerated ``max |ONNX - PyTorch|`` of any graph output.
DEFAULT_TOLERANCE = 1e-4
#: Default ONNX opset.
DEFAULT_OPSET = 17
#: Prefix of the metadata keys mmemtm writes into the ONNX file.
META_PREFIX = 'mmemtm.'


class OnnxParityError(RuntimeError):
    """The exported graph's outputs differ from PyTorch's by more than the tolerance."""


@dataclass
class GraphSpec:
    """What a runtime needs to know about an exported graph (stored as ONNX metadata).

    Attributes:
        model_type: Class name of the exported grounder (``EMTM``, ``SeqPANGrounder``...).
        kind: Output kind (``span``, ``proposals`` or ``map2d``; see :data:`OUTPUTS`).
        max_vlen: Clip grid length ``L`` of the graph (0: any length).
        video_dim: Clip feature size ``Dv``.
        num_words: Rows of the word table (word ids must be below it).
        num_chars: Character vocabulary size (0: the model reads no characters).
        min_chars: Fewest letters per word the character CNN accepts.
        dynamic_batch: The batch size may vary (otherwise the graph has batch 1).
        decoding: Arguments of the decoding (``topk``, ``nms_thr``, ``max_span_len``).
        parity_max_abs_diff: Largest ``|ONNX - PyTorch|`` measured on export.
        opset: ONNX opset of the graph.
    """
    model_type: str
    kind: str
    max_vlen: int
    video_dim: int
    num_words: int
    num_chars: int
    min_chars: int
    dynamic_batch: bool
    decoding: Dict[str, Optional[float]]
    parity_max_abs_diff: float = float('nan')
    opset: int = DEFAULT_OPSET

    def metadata(self) -> Dict[str, str]:
        """ONNX ``metadata_props`` (strings; JSON values)."""
        return {META_PREFIX + key: json.dumps(value) for key, value in asdict(self).items()}

    @classmethod
    def from_metadata(cls, props: Dict[str, str], source: str) -> 'GraphSpec':
        """Read back :meth:`metadata`; ``source`` names the file in errors."""
        names = cls.__dataclass_fields__
        values = {key[len(META_PREFIX):]: value for key, value in props.items()
                  if key.startswith(META_PREFIX)}
        missing = [name for name in names if name not in values]
        if missing:
            raise ValueError(f'{source} is not an ONNX file exported by mmemtm (metadata '
                             f'{", ".join(META_PREFIX + m for m in missing)} missing); export it '
                             'with tools/deployment/export_onnx.py')
        parsed = {}
        for name in names:
            key = META_PREFIX + name
            try:
                parsed[name] = json.loads(values[name])
            except (ValueError, RecursionError) as exc:
                raise ValueError(f'{source}: metadata {key} is not JSON ({values[name][:60]!r}: '
                                 f'{exc}); export the file again with '
                                 'tools/deployment/export_onnx.py') from None
            problem = _metadata_problem(name, parsed[name])
            if problem:
                raise ValueError(f'{source}: metadata {key} must be {problem}, got '
                                 f'{parsed[name]!r}; export the file again with '
                                 'tools/deployment/export_onnx.py')
        return cls(**parsed)


def _is_int(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _metadata_problem(name: str, value: Any) -> Optional[str]:
    """What the metadata entry ``name`` must be, if ``value`` is not that (else None)."""
    if name == 'model_type':
        return None if isinstance(value, str) and value else 'a class name'
    if name == 'kind':
        return None if value in ('span', 'proposals', 'map2d') else "'span', 'proposals' or 'map2d'"
    if name in ('video_dim', 'num_words', 'opset'):
        return None if _is_int(value, 1) else 'a positive integer'
    if name in ('max_vlen', 'num_chars', 'min_chars'):
        return None if _is_int(value, 0) else 'a non-negative integer'
    if name == 'dynamic_batch':
        return None if isinstance(value, bool) else 'true or false'
    if name == 'parity_max_abs_diff':
        return None if _is_number(value) else 'a number'
    if name == 'decoding':
        if (not isinstance(value, dict) or not _is_int(value.get('topk'), 1)
                or not {'nms_thr', 'max_span_len'} <= set(value)):
            return ('an object with "topk" (a positive integer), "nms_thr" and '
                    '"max_span_len"')
        nms, span = value.get('nms_thr'), value.get('max_span_len')
        if nms is not None and not (_is_number(nms) and 0 <= nms <= 1):
            return 'an object whose "nms_thr" is null or a number in [0, 1]'
        if span is not None and not _is_int(span, 1):
            return 'an object whose "max_span_len" is null or a positive integer'
    return None


@dataclass
class ParityReport:
    """Parity of an exported graph with PyTorch.

    Attributes:
        cases: One entry per checked batch: its shapes and ``max_abs_diff`` per output.
        max_abs_diff: Largest difference over all cases and outputs.
        tolerance: The tolerance checked against.
    """
    cases: List[dict] = field(default_factory=list)
    max_abs_diff: float = 0.0
    tolerance: float = DEFAULT_TOLERANCE


def _first(model: nn.Module, cls: type) -> Optional[nn.Module]:
    return next((m for m in model.modules() if isinstance(m, cls)), None)


def graph_spec(model: BaseGrounder, network: nn.Module, opset: int = DEFAULT_OPSET) -> GraphSpec:
    """The :class:`GraphSpec` of ``model``'s export network (vocabularies read off the model's
    embedding layers, clip grid off its data preprocessor)."""
    embedding = _first(model, QueryEmbedding)
    if embedding is not None:
        char_cnn = embedding.char_cnn
        num_words, num_chars = embedding.word_table.num_embeddings, char_cnn.num_chars
        min_chars = max(char_cnn.widths)
    else:
        text = _first(model, GloveRNNSentenceEncoder)
        num_words, num_chars, min_chars = int(text.glove.shape[0]), 0, 0
    preprocessor = model.data_preprocessor
    min_chars = max(min_chars, getattr(preprocessor, 'min_chars', 0))
    video_dim = _video_dim(model)
    return GraphSpec(
        model_type=type(model).__name__, kind=network.kind,
        max_vlen=int(getattr(preprocessor, 'max_vlen', None) or 0), video_dim=video_dim,
        num_words=int(num_words), num_chars=int(num_chars), min_chars=int(min_chars),
        dynamic_batch=network.dynamic_batch,
        decoding=dict(topk=model.topk, nms_thr=model.nms_thr,
                      max_span_len=getattr(model, 'max_span_len', None)),
        opset=opset)


def _video_dim(model: BaseGrounder) -> int:
    """Clip feature size ``Dv``: the input size of the model's video projection."""
    projection = _first(model, VideoProjection)
    if projection is not None:
        return int(projection.proj.in_features)
    first = model.video_proj[0]  # SCDM: Linear, 2D-TAN: 1x1 Conv1d
    return int(first.in_features if isinstance(first, nn.Linear) else first.in_channels)


def sample_batch(spec: GraphSpec, queries: int, videos: int, words: int, letters: int,
                 v_lens: List[int], n_words: List[int], length: int,
                 seed: int = 0) -> Dict[str, torch.Tensor]:
    """Random graph inputs (:data:`INPUTS`): Gaussian clip features, word and letter ids of the
    vocabularies, ``v_lens`` valid clips per video and ``n_words`` words per query (padding
    zeroed, as the data preprocessor pads)."""
    gen = torch.Generator().manual_seed(seed)
    video = torch.randn(videos, length, spec.video_dim, generator=gen)
    video_mask = (torch.arange(length)[None] < torch.tensor(v_lens)[:, None]).float()
    word_mask = (torch.arange(words)[None] < torch.tensor(n_words)[:, None]).float()
    ids = torch.randint(2, spec.num_words, (queries, words), generator=gen)
    chars = torch.randint(2, max(spec.num_chars, 3), (queries, words, letters), generator=gen)
    return dict(video=video * video_mask[..., None], video_mask=video_mask,
                words=ids * word_mask.long(), chars=chars * word_mask.long()[..., None],
                word_mask=word_mask)


def parity_batches(spec: GraphSpec, length: int) -> List[Dict[str, torch.Tensor]]:
    """Batches the parity check runs: full and padded videos and queries, several query and word
    lengths; with a dynamic batch also several queries and one video for many queries."""
    letters = max(spec.min_chars, 4)
    if not spec.dynamic_batch:
        batches = [sample_batch(spec, 1, 1, 9, letters + 3, [length], [9], length, 1),
                   sample_batch(spec, 1, 1, 12, letters + 1, [max(1, length // 3)], [4], length,
                                2),
                   sample_batch(spec, 1, 1, 3, letters, [max(1, length - 5)], [3], length, 3)]
    else:
        batches = [
            sample_batch(spec, 2, 2, 9, letters + 3, [length, length], [9, 9], length, 1),
            sample_batch(spec, 3, 3, 12, letters + 1,
                         [length, max(1, length // 3), max(1, length - 5)], [12, 3, 7], length, 2),
            sample_batch(spec, 4, 1, 6, letters, [max(1, length - 9)], [6, 2, 5, 1], length, 3)]
    if not spec.max_vlen:  # a graph of any clip grid length: check another one too
        other = length // 2 + 3
        batches.append(sample_batch(spec, 1, 1, 5, letters, [other - 2], [5], other, 4))
    return batches


def _one_video_per_query(batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    queries = batch['words'].shape[0]
    return dict(batch, video=batch['video'].expand(queries, -1, -1),
                video_mask=batch['video_mask'].expand(queries, -1))


def check_parity(model: BaseGrounder, session: 'onnxruntime.InferenceSession',
                 batches: List[Dict[str, torch.Tensor]],
                 tolerance: float = DEFAULT_TOLERANCE) -> ParityReport:
    """Run ``batches`` through the ONNX Runtime ``session`` and the model's own PyTorch methods.

    Returns:
        ParityReport: The differences (the caller decides whether to fail).
    """
    names = {i.name for i in session.get_inputs()}
    report = ParityReport(tolerance=tolerance)
    for batch in batches:
        feeds = {k: v.numpy() for k, v in batch.items() if k in names}
        got = session.run(None, feeds)
        expected = reference_outputs(model, _one_video_per_query(batch))
        diffs = {name: float(np.abs(g.astype(np.float64) - e.numpy().astype(np.float64)).max())
                 for name, g, e in zip(session_output_names(session), got, expected)}
        report.cases.append(dict(shapes={k: list(v.shape) for k, v in batch.items()},
                                 max_abs_diff=diffs))
        report.max_abs_diff = max(report.max_abs_diff, *diffs.values())
    return report


def session_output_names(session: 'onnxruntime.InferenceSession') -> List[str]:
    """Names of the graph outputs, in order."""
    return [o.name for o in session.get_outputs()]


def _dynamic_axes(kind: str, dynamic_batch: bool, dynamic_length: bool) -> Dict[str, dict]:
    batch = {0: 'batch'} if dynamic_batch else {}
    clips = {1: 'clips'} if dynamic_length else {}
    axes = dict(video={**({0: 'videos'} if dynamic_batch else {}), **clips},
                video_mask={**({0: 'videos'} if dynamic_batch else {}), **clips},
                words={**batch, 1: 'words'}, chars={**batch, 1: 'words', 2: 'letters'},
                word_mask={**batch, 1: 'words'})
    for name in OUTPUTS[kind]:
        axes[name] = dict(batch)
    if kind == 'span' and dynamic_length:
        for name in OUTPUTS[kind]:
            axes[name][1] = 'clips'
    return axes


def trace_to_onnx(model: BaseGrounder, length: int, opset: int = DEFAULT_OPSET
                  ) -> Tuple[bytes, GraphSpec]:
    """The model's network traced to ONNX (serialised, with mmemtm's metadata; not checked)."""
    import onnx
    network = export_network(model)
    spec = graph_spec(model, network, opset)
    example = parity_batches(spec, length)[0]
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about the id-range checks it freezes (the runtime repeats them) and
        # about the legacy exporter itself (chosen on purpose, see the module docstring).
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.filterwarnings('ignore', message='Constant folding')
        torch.onnx.export(network, tuple(example[name] for name in INPUTS), buffer,
                          dynamo=False, opset_version=opset, input_names=list(INPUTS),
                          output_names=list(OUTPUTS[spec.kind]),
                          dynamic_axes=_dynamic_axes(spec.kind, spec.dynamic_batch,
                                                     spec.max_vlen == 0))
    graph = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(graph)
    return _with_metadata(graph, spec), spec


def _with_metadata(graph, spec: GraphSpec) -> bytes:
    del graph.metadata_props[:]
    for key, value in spec.metadata().items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    graph.producer_name = 'mmemtm'
    return graph.SerializeToString()


def default_length(model: BaseGrounder) -> int:
    """Clip grid length of the sample inputs: the data preprocessor's ``max_vlen``, else the
    ``max_vlen`` of ``DownsampleClips`` in the test pipeline of ``model.cfg`` (0: unknown)."""
    fixed = getattr(model.data_preprocessor, 'max_vlen', None)
    if fixed:
        return int(fixed)
    cfg = getattr(model, 'cfg', None)
    pipeline = cfg.test_dataloader.dataset.pipeline if cfg is not None else []
    return next((int(t['max_vlen']) for t in pipeline if t['type'] == 'DownsampleClips'), 0)


def export_onnx(model: BaseGrounder, out: str, opset: int = DEFAULT_OPSET,
                tolerance: float = DEFAULT_TOLERANCE, length: Optional[int] = None,
                num_threads: int = 1) -> ParityReport:
    """Export ``model``'s inference network to ``out`` after checking it against PyTorch.

    The parity check runs the batches of :func:`parity_batches` (dynamic batch: several queries,
    padded videos and queries, one video for four queries) through ONNX Runtime and through the
    model's own PyTorch methods; nothing is written unless every output agrees within
    ``tolerance``. The file is written atomically.

    Args:
        model: An exportable grounder (:data:`mmemtm.deployment.networks.NETWORKS`), e.g. from
            :func:`mmemtm.apis.init_grounder`; it is put in eval mode.
        out: The ``.onnx`` file.
        opset: ONNX opset.
        tolerance: Largest tolerated ``max |ONNX - PyTorch|`` (logits, scores, moments).
        length: Clip grid length of the sample inputs (default: :func:`default_length`).
        num_threads: ONNX Runtime threads of the check.

    Returns:
        ParityReport: The measured differences.

    Raises:
        OnnxParityError: Naming the output, batch and difference, when parity is broken.
    """
    model.eval()
    length = length or default_length(model)
    if not length:
        raise ValueError(f'{type(model).__name__} pads videos to no fixed max_vlen and has no '
                         'config with DownsampleClips; pass the clip grid length of the sample '
                         'inputs (length=...)')
    data, spec = trace_to_onnx(model, length, opset)
    session = create_session(data, num_threads)
    report = check_parity(model, session, parity_batches(spec, length), tolerance)
    if not report.max_abs_diff <= tolerance:
        worst = max(report.cases, key=lambda c: max(c['max_abs_diff'].values()))
        raise OnnxParityError(
            f'the ONNX graph of {spec.model_type} for {out} differs from PyTorch by '
            f'{report.max_abs_diff:.3g} > {tolerance:g} (outputs {worst["max_abs_diff"]} on '
            f'inputs {worst["shapes"]}); nothing was written')
    spec.parity_max_abs_diff = report.max_abs_diff
    import onnx
    graph = onnx.load_from_string(data)
    with atomic_write(out, 'wb') as f:
        f.write(_with_metadata(graph, spec))
    return report


def create_session(model: Union[bytes, str],
                   num_threads: int = 1) -> 'onnxruntime.InferenceSession':
    """An ONNX Runtime CPU session of a serialised graph or ``.onnx`` path, with
    ``num_threads`` intra-op threads, one inter-op thread and all graph optimisations."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])
