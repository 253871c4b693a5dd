"""tools/analysis/benchmark_weak.py: the command line reaches the benchmark (no training)."""
from mmemtm.benchmarks.weak_grounding import TEACHER, WeakBenchmark


TOOL = 'tools/analysis/benchmark_weak.py'


def test_teacher_seeds_default_to_the_teacher_seed_and_can_be_several(load_tool, tmp_path):
    tool = load_tool(TOOL)
    args = tool.parse_args(['--seeds', '0', '1', '2', '--teacher-seed', '0'])
    assert args.teacher_seeds is None
    args = tool.parse_args(['--seeds', '0', '1', '2', '--teacher-seed', '0',
                            '--teacher-seeds', '0', '1', '2'])
    bench = WeakBenchmark(str(tmp_path), args.seeds, teacher_seed=args.teacher_seed,
                          teacher_seeds=args.teacher_seeds)
    assert bench.teacher_seed == 0 and bench.reported_seeds(TEACHER) == [0, 1, 2]
