"""The real-feature accuracy benchmark: teachers, EMTM and its ablations on Charades-STA CLIP
features, with seeds, paired comparisons and bootstrap confidence intervals.

Protocol (what ``tools/analysis/benchmark_real.py`` runs):

1. each offline teacher is trained (best val checkpoint, early stopping on val), tested once, and
   its curves are dumped for the train split (what EMTM distils) and the test split (to decode
   the teachers' mixtures);
2. the KD sweep: EMTM (seed 0) for each ``(kd_weight, kd_temperature)`` of the grid, ranked by the
   best val R1@0.5; the winner is used for every EMTM row;
3. every student-side row for every seed: the same seed gives every row the same student
   initialisation (the student's modules are built and initialised first), so rows are paired;
   each row's best val checkpoint is tested once, with per-query IoUs kept;
4. the decoded teacher rows (plain average, KAU mixture) from each EMTM-KAU run's aggregator;
5. a paired bootstrap over test queries of each row's R1@0.5 against "student alone".

Everything is kept in ``results.json`` (written atomically after every run), so an interrupted
benchmark resumes where it stopped.
"""
import copy
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmemtm.utils import dump_json_atomic, read_json
from .experiments import set_epochs, set_teacher_curves, train_and_test
from .teacher_curves import dump_teacher_curves
from .teacher_ensembles import evaluate_teacher_curves

#: Offline teachers (row name -> config), in EMTM's teacher order.
TEACHERS = {
    'SeqPAN': 'configs/teachers/seqpan_charades_clip.py',
    '2D-TAN': 'configs/teachers/tan2d_charades_clip.py',
    'SCDM': 'configs/teachers/scdm_charades_clip.py',
}
#: Student-side rows: name -> config (all built from configs/emtm_charades_clip.py).
ROWS = {
    'student alone': 'configs/ablations/emtm_charades_clip_student_only.py',
    'student + co-trained teacher': 'configs/ablations/emtm_charades_clip_cotrained_only.py',
    'EMTM (KAU)': 'configs/emtm_charades_clip.py',
    'EMTM (plain average)': 'configs/ablations/emtm_charades_clip_average_teachers.py',
}
#: Rows that distil from the offline teachers (they take the swept KD setting).
DISTILLING = ('EMTM (KAU)', 'EMTM (plain average)')
#: Decoded mixtures of the teachers' test curves, from the EMTM (KAU) runs.
MIXTURES = ('plain average of teachers', 'KAU mixture')
BASELINE = 'student alone'
METRIC = 'R1@0.5'


class RealBenchmark:
    """State and runs of one benchmark folder.

    Args:
        work_dir: Folder of the runs and of ``results.json``.
        seeds: Seeds of the student-side rows.
        kd_grid: ``(kd_weight, kd_temperature)`` pairs of the KD sweep.
        epochs: Epochs of every run (None: the configs' own).
        device: ``'cpu'`` or ``'cuda'``.
        teacher_seed: Seed of the teachers' training.
        rows: Student-side rows to run (default: all of :data:`ROWS`).
    """

    def __init__(self, work_dir: str, seeds: Sequence[int] = (0, 1, 2),
                 kd_grid: Sequence[Tuple[float, float]] = ((0.1, 1.0), (1.0, 1.0), (1.0, 3.0)),
                 epochs: Optional[int] = None, device: str = 'cpu',
                 teacher_seed: int = 0, rows: Optional[Sequence[str]] = None) -> None:
        self.work_dir = work_dir
        self.seeds = list(seeds)
        self.kd_grid = [tuple(map(float, kd)) for kd in kd_grid]
        self.epochs = epochs
        self.device = device
        self.teacher_seed = teacher_seed
        self.rows = [r for r in ROWS if rows is None or r in rows]
        self.path = osp.join(work_dir, 'results.json')
        self.results: Dict[str, dict] = read_json(self.path) if osp.isfile(self.path) else {}

    def save(self) -> None:
        dump_json_atomic(self.results, self.path, indent=1)

    def curve_file(self, teacher: str, split: str) -> str:
        return osp.join(self.work_dir, 'curves', f'{teacher}_{split}.npz')

    def config(self, path: str, run_dir: str, seed: int) -> Config:
        """``path``'s config for one run: work dir, seed, epochs, device, per-query test dump."""
        cfg = Config.fromfile(path)
        cfg.work_dir = run_dir
        cfg.randomness = dict(seed=seed, deterministic=False)
        if self.epochs is not None:
            set_epochs(cfg, self.epochs)
        cfg.test_evaluator = dict(cfg.test_evaluator,
                                  dump_file=osp.join(run_dir, 'test_predictions.json'))
        cfg.device = self.device
        return cfg

    def run(self, key: str, cfg: Config) -> dict:
        """Train ``cfg``, test its best val checkpoint; store metrics and per-query IoUs."""
        if key in self.results:
            return self.results[key]
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            cfg.resume = True  # an interrupted run continues exactly (RandomStateHook)
        result = train_and_test(cfg)
        runner = result.pop('runner')
        ious = top1_ious(cfg.test_evaluator.dump_file)
        hub = runner.message_hub
        self.results[key] = dict(test=result, best_val=hub.get_info('best_score'),
                                 checkpoint=hub.get_info('best_ckpt'), ious=ious)
        self.save()
        open(osp.join(cfg.work_dir, 'finished'), 'w').close()
        self._last_runner = runner
        return self.results[key]

    def train_teachers(self) -> None:
        """Train every teacher and dump its train/test curves (skipping what is done)."""
        for name, path in TEACHERS.items():
            key = f'teacher/{name}'
            files = {s: self.curve_file(name, s) for s in ('train', 'test')}
            if key in self.results and all(osp.isfile(f) for f in files.values()):
                continue
            self.results.pop(key, None)
            run_dir = osp.join(self.work_dir, 'teachers', name)
            cfg = self.config(path, run_dir, self.teacher_seed)
            trained = sorted(glob.glob(osp.join(run_dir, 'best_*.pth')))
            if trained and osp.isfile(osp.join(run_dir, 'finished')):
                self.test_checkpoint(key, cfg, trained[-1])
            else:
                self.run(key, cfg)
            for split, out in files.items():
                dump_teacher_curves(self._last_runner.model, cfg, out, split, name=name)

    def test_checkpoint(self, key: str, cfg: Config, checkpoint: str) -> None:
        """Test a run trained earlier (its folder holds ``finished``) without retraining."""
        cfg = copy.deepcopy(cfg)
        cfg.load_from = checkpoint
        runner = Runner.from_cfg(cfg)
        metrics = dict(runner.test())
        ious = top1_ious(cfg.test_evaluator.dump_file)
        self.results[key] = dict(test=metrics, best_val=None, checkpoint=checkpoint, ious=ious)
        self.save()
        self._last_runner = runner

    def student_config(self, row: str, seed: int, kd: Optional[Tuple[float, float]] = None,
                       tag: str = '') -> Config:
        run_dir = osp.join(self.work_dir, 'runs', f'{row}{tag}'.replace(' ', '_'), f'seed{seed}')
        cfg = self.config(ROWS[row], run_dir, seed)
        if cfg.model.num_teachers > 0:
            set_teacher_curves(cfg, [self.curve_file(t, 'train') for t in TEACHERS])
            if kd is not None:
                cfg.model.loss_kd.loss_weight, cfg.model.loss_kd.temperature = kd
        return cfg

    def kd_sweep(self) -> Tuple[float, float]:
        """EMTM (KAU), first seed, every KD setting; the best by val R1@0.5."""
        scores = {}
        for kd in self.kd_grid:
            key = sweep_key(kd)
            tag = f' kd{kd[0]:g} T{kd[1]:g}'
            scores[kd] = self.run(key, self.student_config('EMTM (KAU)', self.seeds[0], kd,
                                                             tag))['best_val']
        return max(scores, key=scores.get)

    def run_rows(self, kd: Tuple[float, float]) -> None:
        """Every row and seed, the main comparison (student alone, EMTM with the KAU) for every
        seed first; the first seed's EMTM (KAU) is the sweep's run of ``kd``."""
        main = [r for r in self.rows if r in (BASELINE, 'EMTM (KAU)')]
        order = [(s, r) for s in self.seeds for r in main]
        order += [(s, r) for s in self.seeds for r in self.rows if r not in main]
        for seed, row in order:
            key = f'{row}/seed{seed}'
            cfg = self.student_config(row, seed, kd if row in DISTILLING else None)
            if row == 'EMTM (KAU)' and seed == self.seeds[0] and sweep_key(kd) in self.results:
                self.results.setdefault(key, self.results[sweep_key(kd)])
                cfg.work_dir = osp.dirname(self.results[key]['checkpoint'])
            self.run(key, cfg)
            if row == 'EMTM (KAU)':
                self.decode_mixtures(cfg, seed)

    def decode_mixtures(self, cfg: Config, seed: int) -> None:
        """The teachers' test curves decoded alone, averaged and mixed by the run's KAU."""
        keys = {m: f'{m}/seed{seed}' for m in MIXTURES}
        if all(k in self.results for k in keys.values()):
            return
        model = MODELS.build(cfg.model)
        load_checkpoint(model, self.results[f'EMTM (KAU)/seed{seed}']['checkpoint'],
                        map_location='cpu')
        dumps = {m: osp.join(cfg.work_dir, f'{m.replace(" ", "_")}.json') for m in MIXTURES}
        metrics = evaluate_teacher_curves(model, cfg,
                                          [self.curve_file(t, 'test') for t in TEACHERS],
                                          list(TEACHERS), dump_files=dumps)
        for mixture, key in keys.items():
            self.results[key] = dict(test=metrics[mixture], ious=top1_ious(dumps[mixture]))
        self.save()


def top1_ious(dump_file: str) -> Dict[str, float]:
    """``{query id: IoU of the top-1 moment}`` of a ``GroundingMetric(dump_file=...)`` file."""
    with open(dump_file, encoding='utf-8') as f:
        return {r['query_id']: r['ious'][0] for r in json.load(f)}


def sweep_key(kd: Tuple[float, float]) -> str:
    return f'sweep/kd_weight={kd[0]:g},T={kd[1]:g}'


def paired_bootstrap(row: np.ndarray, base: np.ndarray, num: int = 10000,
                     seed: int = 0) -> Tuple[float, float, float]:
    """Mean difference (points) and 95% CI of ``row - base`` over resampled queries.

    Args:
        row: ``[S, Q]`` per-seed, per-query hits (0/1) or IoUs of a row.
        base: ``[S, Q]`` the same of the baseline (same seeds and queries).
        num: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        tuple: ``(mean, low, high)`` in points (x100), the difference averaged over seeds.
    """
    diff = (np.asarray(row, np.float64) - np.asarray(base, np.float64)).mean(0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), (num, len(diff)))
    means = diff[idx].mean(1)
    return (100 * float(diff.mean()), 100 * float(np.percentile(means, 2.5)),
            100 * float(np.percentile(means, 97.5)))


def hits(results: Dict[str, dict], row: str, seeds: Sequence[int], queries: List[str],
         thr: float = 0.5) -> np.ndarray:
    """``[S, Q]`` 0/1 of top-1 IoU >= ``thr`` of ``row``'s runs."""
    return np.array([[results[f'{row}/seed{s}']['ious'][q] >= thr - 1e-9 for q in queries]
                     for s in seeds], np.float64)


def summary_rows(results: Dict[str, dict], seeds: Sequence[int]) -> List[dict]:
    """Table rows: name, metrics mean/sd over seeds, paired CI of R1@0.5 vs student alone."""
    rows = []
    for name in TEACHERS:
        if f'teacher/{name}' in results:
            rows.append(dict(row=f'teacher: {name}', runs=[results[f'teacher/{name}']]))
    for name in (*ROWS, *MIXTURES):
        runs = [results[f'{name}/seed{s}'] for s in seeds if f'{name}/seed{s}' in results]
        if runs:
            rows.append(dict(row=name, runs=runs))
    done = [s for s in seeds if f'{BASELINE}/seed{s}' in results]
    queries = sorted(results[f'{BASELINE}/seed{done[0]}']['ious']) if done else []
    for entry in rows:
        name = entry['row']
        runs = entry.pop('runs')
        for metric in ('R1@0.3', 'R1@0.5', 'R1@0.7', 'mIoU'):
            values = [r['test'][metric] for r in runs]
            entry[metric] = (float(np.mean(values)), float(np.std(values, ddof=1))
                             if len(values) > 1 else 0.0)
        entry['seeds'] = len(runs)
        paired = [s for s in done if f'{name}/seed{s}' in results]
        if name in (*ROWS, *MIXTURES) and name != BASELINE and paired:
            entry['ci'] = paired_bootstrap(hits(results, name, paired, queries),
                                           hits(results, BASELINE, paired, queries))
    return rows


def markdown_table(rows: List[dict]) -> str:
    """The summary as a markdown table (mean ± sd over seeds; CI of R1@0.5 vs student alone)."""
    lines = ['| row | seeds | R1@0.3 | R1@0.5 | R1@0.7 | mIoU | Δ R1@0.5 vs student alone '
             '[95% CI] |', '| --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        cells = [f'{r[m][0]:.1f} ± {r[m][1]:.1f}' if r['seeds'] > 1 else f'{r[m][0]:.1f}'
                 for m in ('R1@0.3', 'R1@0.5', 'R1@0.7', 'mIoU')]
        ci = r.get('ci')
        delta = f'{ci[0]:+.1f} [{ci[1]:+.1f}, {ci[2]:+.1f}]' if ci else '—'
        lines.append(f'| {r["row"]} | {r["seeds"]} | ' + ' | '.join(cells) + f' | {delta} |')
    return '\n'.join(lines)


def sweep_table(results: Dict[str, dict]) -> str:
    """The KD sweep: val R1@0.5 of each setting (and its test numbers, for the record)."""
    lines = ['| kd_weight, T | best val R1@0.5 |', '| --- | --- |']
    for key in sorted(k for k in results if k.startswith('sweep/')):
        lines.append(f'| {key[len("sweep/"):]} | {results[key]["best_val"]:.1f} |')
    return '\n'.join(lines)
