"""The results for scripts (a flat table) and for people (plain-text tables per setting)."""
from typing import Any, Dict

from mmemtm.benchmarks.reporting import format_table
from .options import BREAKDOWN_MODELS


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
    line = (f'student decoding alone (batch 1, L={decoding["clips"]}): vectorised '
            f'{decoding["vectorised"]["median_ms"]:.3f} ms')
    if 'previous_release' in decoding:
        line += (f', previous release {decoding["previous_release"]["median_ms"]:.3f} ms, '
                 f'same spans: {decoding["same_spans"]}')
    lines += ['', line]
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
