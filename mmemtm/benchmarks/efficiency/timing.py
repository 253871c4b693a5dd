"""Wall-clock timing: interleaved rounds of calls, their summaries, and the time spent in each
submodule."""
import math
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.utils import ProgressBar

from mmemtm.models.grounders import BaseGrounder


def call_of(model: BaseGrounder, method: str,
            inputs: Dict[str, torch.Tensor]) -> Callable[[], Any]:
    """A no-argument call of ``model.<method>`` on ``inputs``."""
    if method == 'loss':
        return lambda: model.loss(inputs, None)
    return lambda: getattr(model, method)(inputs)


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(device)


def synced(call: Callable[[], Any], device: str) -> Callable[[], Any]:
    """``call`` followed by a device synchronisation (so CPU timers see the device work)."""
    def run() -> Any:
        out = call()
        synchronize(device)
        return out
    return run


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
