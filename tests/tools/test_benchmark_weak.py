"""tools/analysis/benchmark_weak.py: the command line reaches the benchmark (no training)."""
import importlib.util

from mmemtm.benchmarks.weak_grounding import TEACHER, WeakBenchmark


def _tool(repo_root):
    spec = importlib.util.spec_from_file_location(
        'benchmark_weak', repo_root / 'tools' / 'analysis' / 'benchmark_weak.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_seeds_default_to_the_teacher_seed_and_can_be_several(repo_root, tmp_path):
    tool = _tool(repo_root)
    args = tool.parse_args(['--seeds', '0', '1', '2', '--teacher-seed', '0'])
    assert args.teacher_seeds is None
    args = tool.parse_args(['--seeds', '0', '1', '2', '--teacher-seed', '0',
                            '--teacher-seeds', '0', '1', '2'])
    bench = WeakBenchmark(str(tmp_path), args.seeds, teacher_seed=args.teacher_seed,
                          teacher_seeds=args.teacher_seeds)
    assert bench.teacher_seed == 0 and bench.reported_seeds(TEACHER) == [0, 1, 2]
