"""The accuracy benchmark runs every row on a tiny data set, resumes, and distils further seeds from
one seed's teachers."""
import json
from pathlib import Path

import pytest

from mmemtm.benchmarks.store import ResultStore


@pytest.fixture
def benchmark(repo_root, monkeypatch, load_tool):
    """``tools/analysis/benchmark_accuracy.py`` as a module, run from the repository root."""
    module = load_tool('tools/analysis/benchmark_accuracy.py')
    monkeypatch.chdir(repo_root)
    return module


def tiny_dataset_config(tiny_planted: Path, demo_root: Path, out: Path, repo_root: Path) -> Path:
    """A child of the full-TACoS planted config pointed at a few of ``tiny_planted``'s queries
    (16 to train, 8 to test: each run has two training batches and one test batch), with 1024-d
    features to be planted under ``out`` and no loader workers."""
    for split, count in (('train', 16), ('test', 8)):
        records = json.loads((tiny_planted / f'{split}.json').read_text())
        (out / f'{split}.json').write_text(json.dumps(records[::len(records) // count][:count]))
    glove = str(demo_root / 'glove')
    loader = ('dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dict('
              'ann_file={}, data_prefix=dict(features=feature_root), pipeline={}))')
    text = '\n'.join([
        f"_base_ = [{str(repo_root / 'configs/_base_/datasets/tacos_planted.py')!r}]",
        f'ann_prefix = {str(out) + "/"!r}',
        f"feature_root = {str(out / 'features')!r}",
        f'glove = {glove!r}',
        'pipeline_args = dict(DownsampleClips=dict(max_vlen=64), '
        'TokenizeQuery=dict(vocab=glove))',
        'train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) '
        'for t in _base_.train_pipeline]',
        'test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) '
        'for t in _base_.test_pipeline]',
        'train_dataloader = ' + loader.format("ann_prefix + 'train.json'", 'train_pipeline'),
        'val_dataloader = ' + loader.format("ann_prefix + 'test.json'", 'test_pipeline'),
        'test_dataloader = val_dataloader', ''])
    path = out / 'tiny_dataset.py'
    path.write_text(text)
    return path


@pytest.mark.slow
def test_accuracy_benchmark_rows_resume_and_teacher_seed(benchmark, tiny_planted, demo_root,
                                                         repo_root, tmp_path, monkeypatch):
    config = tiny_dataset_config(tiny_planted, demo_root, tmp_path, repo_root)
    monkeypatch.setattr(benchmark, 'DATASETS',
                        dict(tiny=dict(config=str(config), clip_seconds=2.0, name='Tiny')))
    work, table = tmp_path / 'work', tmp_path / 'table.md'
    common = ['--datasets', 'tiny', '--epochs', '1', '--work-dir', str(work), '--table',
              str(table)]

    benchmark.main([*common, '--seeds', '0'])
    results = json.loads((work / 'results.json').read_text())
    assert set(results['tiny/seed0']) == set(benchmark.ROW_ORDER)
    for row in results['tiny/seed0'].values():
        assert 0 <= row['R1@0.7'] <= row['R1@0.5'] <= row['R1@0.3'] <= 100
    assert (tmp_path / 'features' / 'feature_shapes.json').is_file()
    for teacher in benchmark.TEACHERS:
        assert (work / 'tiny/seed0/curves' / f'{teacher}_train.npz').is_file()
    lines = table.read_text().splitlines()
    assert lines[0].startswith('PLANTED SYNTHETIC features')
    assert sum(line.startswith('| Tiny |') for line in lines) == len(benchmark.ROW_ORDER)

    stored = list(ResultStore(str(work / 'results')).entries())
    assert len(stored) == len(benchmark.TEACHERS) + len(benchmark.STUDENTS)
    assert all(e['settings']['epochs'] == 1 and e['settings']['seed'] == 0 for e in stored)
    stamp = (work / 'results.json').stat().st_mtime_ns
    benchmark.main([*common, '--seeds', '0'])  # everything done: nothing is retrained
    assert (work / 'results.json').stat().st_mtime_ns == stamp

    with pytest.raises(FileNotFoundError, match='--teacher-seed 5'):
        benchmark.main([*common, '--seeds', '1', '--teacher-seed', '5'])
    benchmark.main([*common, '--seeds', '0', '1', '--teacher-seed', '0'])
    results = json.loads((work / 'results.json').read_text())
    students = set(benchmark.STUDENTS) | {'KAU mixture'}
    assert set(results['tiny/seed1']) == students  # no teacher retrained, no repeated average
    assert not (work / 'tiny/seed1/seqpan').exists()
    rows = {line.split(' | ')[1]: line.split(' | ')[2:]
            for line in table.read_text().splitlines() if line.startswith('| Tiny |')}
    assert {row: int(cells[0]) for row, cells in rows.items()} == \
        {row: 2 if row in students else 1 for row in benchmark.ROW_ORDER}
    for row, cells in rows.items():  # a spread only where there are two seeds
        assert all(('±' in cell) == (row in students) for cell in cells[1:5]), cells
