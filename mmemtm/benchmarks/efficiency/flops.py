"""What a model computes: parameters, multiply-accumulates per query (mmengine's
:class:`~mmengine.analysis.FlopAnalyzer`, which counts one fused multiply-add as one flop), and
the CPU's float32 GEMM rate that turns them into a compute floor."""
import statistics
import time
from typing import Any, Dict, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from mmemtm.models.grounders import BaseGrounder
from .inputs import flatten


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


def floor_entry(macs: float, rate: Dict[str, float], latency_ms: float) -> Dict[str, float]:
    """The compute floor of ``macs`` at the measured GEMM ``rate`` and ``latency_ms`` as a
    multiple of it."""
    floor_ms = 1e3 * macs / rate['macs_per_s']
    return dict(floor_ms=floor_ms, x_floor=latency_ms / floor_ms)
