"""The student against the other models (ratios) and the efficiency goals checked on them."""
from typing import Any, Dict, List, Optional

from .options import TEACHERS

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


def deployment_goals(entries: Dict[str, Any], floor_goal: Optional[float],
                     end_to_end_goal: Optional[float]) -> Dict[str, Any]:
    """The student's batch-1 goals on its fastest backend.

    Args:
        entries: The models' entries of a setting (the student's ``backends`` with
            ``latency_b1`` in ms, ``x_floor`` and, on ``torch``, ``previous_release_b1``).
        floor_goal: Latency within ``floor_goal`` times the compute floor (None: unchecked).
        end_to_end_goal: ``end_to_end_goal`` times faster end to end (network + decoding) than
            the eager path of the previous release timed in the same run (None, or no such
            baseline: unchecked).

    Returns:
        dict: ``student_floor`` and ``student_end_to_end``, where checked: the goal's text,
        ``threshold``, ``comparison``, ``values`` (fastest backend -> value) and ``met``.
    """
    student = entries['student']['backends']
    if not student:
        return {}
    fastest = min(student, key=lambda b: student[b]['latency_b1']['median_ms'])
    best = student[fastest]
    goals = {}
    if floor_goal is not None:
        goals['student_floor'] = dict(
            goal=f'student batch-1 <= {floor_goal}x its compute floor (fastest backend)',
            threshold=floor_goal, comparison='<=', values={fastest: best['x_floor']},
            met=best['x_floor'] <= floor_goal)
    baseline = student.get('torch', {}).get('previous_release_b1')
    if end_to_end_goal is not None and baseline is not None:
        speedup = baseline['median_ms'] / best['latency_b1']['median_ms']
        goals['student_end_to_end'] = dict(
            goal=f'student >= {end_to_end_goal}x faster end to end than the eager path of the '
            'previous release', threshold=end_to_end_goal, comparison='>=',
            values={fastest: speedup}, met=speedup >= end_to_end_goal)
    return goals
