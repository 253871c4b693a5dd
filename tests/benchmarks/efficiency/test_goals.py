"""The student's deployment goals: thresholds given by the caller, checked on its fastest
backend."""
from mmemtm.benchmarks.efficiency import deployment_goals


def timing(ms, x_floor):
    return dict(latency_b1=dict(median_ms=ms), x_floor=x_floor)


def test_deployment_goals_on_the_fastest_backend():
    entries = dict(student=dict(backends=dict(
        torch=dict(timing(12.0, 2.0), previous_release_b1=dict(median_ms=15.0)),
        onnxruntime=timing(5.0, 1.4))))
    goals = deployment_goals(entries, floor_goal=1.5, end_to_end_goal=2.5)
    assert goals['student_floor']['values'] == {'onnxruntime': 1.4}
    assert goals['student_floor']['met'] and goals['student_floor']['threshold'] == 1.5
    assert goals['student_end_to_end']['values'] == {'onnxruntime': 3.0}
    assert goals['student_end_to_end']['met']
    entries['student']['backends']['onnxruntime'] = timing(7.5, 1.6)
    goals = deployment_goals(entries, floor_goal=1.5, end_to_end_goal=2.5)
    assert not goals['student_floor']['met'] and not goals['student_end_to_end']['met']
    assert deployment_goals(entries, floor_goal=2.0, end_to_end_goal=1.5)['student_floor']['met']


def test_goals_without_a_threshold_or_a_baseline_are_not_checked():
    entries = dict(student=dict(backends=dict(torch=timing(12.0, 2.0))))
    assert set(deployment_goals(entries, floor_goal=1.5, end_to_end_goal=2.5)) == {
        'student_floor'}
    assert deployment_goals(entries, floor_goal=None, end_to_end_goal=None) == {}
