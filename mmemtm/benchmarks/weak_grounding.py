"""The weakly-supervised benchmark on the real Charades-STA CLIP streams: the weak grounder, the
two-modality teacher with and without cross-modal mutual learning, local-global distillation
into the appearance-only student, and the two controls, with seeds, paired comparisons and
two-level bootstrap CIs (``docs/weakly_supervised.md``).

Protocol (what ``tools/analysis/benchmark_weak.py`` runs):

1. every model trains from video-sentence pairs only (the weak train pipelines pack no
   timestamp, and the weak models refuse a batch that has one), ``epochs`` epochs, keeps its best
   val R1@0.5 checkpoint and is tested once, with per-query IoUs kept;
2. the teacher rows train with the teacher seeds (default: the teacher seed alone, CPU budget);
   a distilling row of every seed distils the teacher run of THE teacher seed (trained first if
   missing): the teacher's model config, streams and checkpoint are put into the student's. The
   paired CIs of the student rows therefore cover the students' seeds, not the teachers'; the
   teacher rows of further seeds (and their branches) are reported and paired by seed, so the
   comparisons between teachers and branches cover the teachers' seeds. The "..., teacher of
   its own seed" rows distil the teacher run of their own seed instead: their seeds cover the
   teachers' seeds too (seed = teacher seed is the same run as the plain row's);
3. the distillation weights ``(local, global)``: with a grid of several pairs, chosen on val
   only (the "student + local + global" row at each pair with a seed of its own, ranked by best
   val R1@0.5; no candidate is tested); with one pair, that pair (not swept);
4. each two-modality teacher's checkpoint is also tested with each branch alone
   (``predict_with='branch<i>'``); the branches of the teacher without mutual learning, each
   trained on its own weak loss only, are the "teacher branch alone" rows;
5. Δ R1@0.5 against the weak student alone and between chosen pairs of rows: two-level
   bootstrap (seeds, then queries) and per-seed deltas.

Every result is stored with the settings that produced it (resolved config, annotation and
checkpoint digests, epochs, seed, device: :class:`~mmemtm.benchmarks.store.ResultStore`), so an
interrupted benchmark resumes where it stopped and a changed setting never reuses a result.
"""
import copy
import os.path as osp
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmemtm.datasets.annotation_readers import read_queries
from mmemtm.engine import set_epochs
from mmemtm.structures import temporal_iou
from .experiments import train_and_test
from .real_grounding import paired, seed_summary, summary_cells, top1_ious, val_history
from .store import ResultStore, file_digest, run_settings

CONFIGS = 'configs/weakly_supervised/'
METRIC = 'R1@0.5'


class WeakRow(NamedTuple):
    """A row: its config, the teacher row it distils (None: no teacher), whether it takes the
    distillation weights chosen on val, the branches tested alone (a two-modality teacher), and
    whether it is a teacher, trained with the teacher seeds only (``once``), and whether it
    distils the teacher run of its own seed rather than of the teacher seed (``own_teacher``:
    its seeds then cover the teachers' seeds too)."""
    config: str
    teacher: Optional[str] = None
    swept: bool = False
    branches: Tuple[str, ...] = ()
    once: bool = False
    own_teacher: bool = False


PRIOR = 'median-span prior'
BASELINE = 'weak student alone (appearance)'
NO_MUTUAL = 'teacher: appearance + motion, no mutual learning'
TEACHER = 'teacher: appearance + motion, mutual learning'
CONTROL_TEACHER = 'control teacher: appearance x 2, mutual learning'
DISTILLED = 'student + local + global'
CONTROL_STUDENT = 'control: student + local + global from the appearance x 2 teacher'
DISTILLED_OWN = f'{DISTILLED}, teacher of its own seed'
CONTROL_STUDENT_OWN = f'{CONTROL_STUDENT}, teacher of its own seed'
#: The rows (the prior is computed, not trained). The teacher without mutual learning trains
#: its two branches side by side, each on its own weak loss only: its branches tested alone
#: (``'<row>, appearance branch'``...) are the "teacher branches alone" rows.
ROWS: Dict[str, WeakRow] = {
    BASELINE: WeakRow(CONFIGS + 'weak_student_charades_clip.py'),
    NO_MUTUAL: WeakRow(CONFIGS + 'mutual_teacher_no_mutual_charades_clip.py',
                       branches=('appearance', 'motion'), once=True),
    TEACHER: WeakRow(CONFIGS + 'mutual_teacher_charades_clip.py',
                     branches=('appearance', 'motion'), once=True),
    DISTILLED: WeakRow(CONFIGS + 'lgd_student_charades_clip.py', TEACHER, True),
    CONTROL_TEACHER: WeakRow(CONFIGS + 'mutual_teacher_appearance_x2_charades_clip.py',
                             once=True),
    CONTROL_STUDENT: WeakRow(CONFIGS + 'lgd_student_from_appearance_x2_charades_clip.py',
                             CONTROL_TEACHER, True),
    'student + local': WeakRow(CONFIGS + 'lgd_student_local_charades_clip.py', TEACHER, True),
    'student + global': WeakRow(CONFIGS + 'lgd_student_global_charades_clip.py', TEACHER, True),
    'control: student given both streams, no distillation': WeakRow(
        CONFIGS + 'weak_two_stream_input_charades_clip.py'),
    'teacher branch alone, trained by itself: motion': WeakRow(
        CONFIGS + 'weak_motion_charades_clip.py'),
    DISTILLED_OWN: WeakRow(CONFIGS + 'lgd_student_charades_clip.py', TEACHER, True,
                           own_teacher=True),
    CONTROL_STUDENT_OWN: WeakRow(CONFIGS + 'lgd_student_from_appearance_x2_charades_clip.py',
                                 CONTROL_TEACHER, True, own_teacher=True),
}
#: The rows the verdict needs, run first (the others are ablations).
DEFAULT_ROWS = (BASELINE, TEACHER, DISTILLED, CONTROL_TEACHER, CONTROL_STUDENT)
#: The row the distillation weights are swept on.
SWEEP_ROW = DISTILLED
#: Paired comparisons of the verdict (row, reference row).
COMPARISONS = (
    (DISTILLED, BASELINE),
    (DISTILLED, CONTROL_STUDENT),
    (CONTROL_STUDENT, BASELINE),
    (TEACHER, f'{NO_MUTUAL}, appearance branch'),
    (TEACHER, f'{NO_MUTUAL}, motion branch'),
    (TEACHER, f'{TEACHER}, appearance branch'),
    (TEACHER, f'{TEACHER}, motion branch'),
    (TEACHER, NO_MUTUAL),
    (TEACHER, CONTROL_TEACHER),
    (TEACHER, 'teacher branch alone, trained by itself: motion'),
    (TEACHER, BASELINE),
    ('student + local', BASELINE),
    ('student + global', BASELINE),
    (DISTILLED, 'control: student given both streams, no distillation'),
    (DISTILLED_OWN, BASELINE),
    (DISTILLED_OWN, CONTROL_STUDENT_OWN),
    (CONTROL_STUDENT_OWN, BASELINE),
)


def median_span_prior(train_ann: str, test_ann: str) -> Dict[str, float]:
    """``{query id: IoU}`` of the median-span prior on ``test_ann``: every query gets the moment
    from the median relative start to the median relative end of the TRAIN annotations
    (fractions of the video, times its duration). It uses the train timestamps' statistics, so
    it is a reference line, not a weakly-supervised model."""
    train, _ = read_queries(train_ann)
    test, _ = read_queries(test_ann)
    rel = np.array([[q['timestamp'][0] / q['duration'], q['timestamp'][1] / q['duration']]
                    for q in train])
    start, end = np.median(rel, axis=0)
    pred = np.array([[start * q['duration'], end * q['duration']] for q in test])
    gt = np.array([q['timestamp'] for q in test], np.float64)
    ious = temporal_iou(pred, gt)
    return {q['query_id']: float(iou) for q, iou in zip(test, ious)}


def metrics_of(ious: Dict[str, float]) -> Dict[str, float]:
    """R1@{0.3,0.5,0.7} and mIoU (percent) of top-1 IoUs."""
    values = np.array(list(ious.values()))
    out = {f'R1@{t}': 100 * float((values >= t - 1e-9).mean()) for t in (0.3, 0.5, 0.7)}
    out['mIoU'] = 100 * float(values.mean())
    return out


class WeakBenchmark:
    """Runs and results of one benchmark folder.

    Args:
        work_dir: Folder of the runs and the result store.
        seeds: Seeds of the rows.
        epochs: Epochs of every run.
        device: ``'cpu'`` or ``'cuda'``.
        weight_grid: ``(local loss_weight, global loss_weight)`` pairs swept on val.
        sweep_seed: Seed of the sweep's students (kept apart from ``seeds``).
        teacher_seed: Seed of the teacher run the distilling rows distil (default: the first
            row seed).
        teacher_seeds: Seeds the teacher rows run at (default: the teacher seed alone); they
            must include the teacher seed. The report shows the teacher rows of every row and
            teacher seed that has run.
    """

    def __init__(self, work_dir: str, seeds: Sequence[int] = (0, 1, 2), epochs: int = 3,
                 device: str = 'cpu',
                 weight_grid: Sequence[Tuple[float, float]] = ((1.0, 1.0), ),
                 sweep_seed: int = 100, teacher_seed: Optional[int] = None,
                 teacher_seeds: Optional[Sequence[int]] = None) -> None:
        if sweep_seed in seeds:
            raise ValueError(f'the sweep seed {sweep_seed} is also a row seed')
        self.teacher_seed = seeds[0] if teacher_seed is None else teacher_seed
        self.teacher_seeds = [self.teacher_seed] if teacher_seeds is None else list(teacher_seeds)
        if self.teacher_seed not in self.teacher_seeds:
            raise ValueError(f'the teacher seeds {self.teacher_seeds} leave out the teacher seed '
                             f'{self.teacher_seed} the students distil')
        self.work_dir, self.seeds, self.epochs, self.device = work_dir, list(seeds), epochs, device
        self.weight_grid = [tuple(map(float, w)) for w in weight_grid]
        self.sweep_seed = sweep_seed
        self.store = ResultStore(osp.join(work_dir, 'results'))
        self._parsed: Dict[str, Config] = {}

    # -- configs -------------------------------------------------------------------------------
    def config(self, path: str, seed: int) -> Config:
        """``path``'s config for one run: seed, epochs, device, data loading in the process."""
        if path not in self._parsed:
            self._parsed[path] = Config.fromfile(path)
        cfg = copy.deepcopy(self._parsed[path])
        cfg.randomness = dict(seed=seed, deterministic=False)
        set_epochs(cfg, self.epochs)
        cfg.device = self.device
        for split in ('train', 'val', 'test'):
            cfg[f'{split}_dataloader'].update(num_workers=0, persistent_workers=False)
        return cfg

    def row_config(self, row: str, seed: int, weights: Optional[Tuple[float, float]] = None,
                   train: bool = True) -> Tuple[Config, dict]:
        """Config and settings of one run of ``row`` (a distilling row gets its teacher's run of
        the teacher seed, or of its own seed for an ``own_teacher`` row, and ``weights``; a
        missing teacher run is trained first, or with ``train=False`` is a
        :class:`LookupError`)."""
        spec = ROWS[row]
        cfg = self.config(spec.config, seed)
        inputs = [cfg[f'{s}_dataloader'].dataset.ann_file for s in ('train', 'val', 'test')]
        if spec.teacher:
            teacher_seed = seed if spec.own_teacher else self.teacher_seed
            teacher = (self.run_row(spec.teacher, teacher_seed) if train
                       else self._stored(spec.teacher, teacher_seed))
            if teacher is None:
                raise LookupError(f'{spec.teacher!r} of seed {teacher_seed} has not run')
            teacher_cfg = self.config(ROWS[spec.teacher].config, teacher_seed)
            cfg.model.teacher = {k: v for k, v in teacher_cfg.model.items()
                                 if k not in ('vocab', 'data_preprocessor', 'input_streams')}
            cfg.model.teacher_streams = list(teacher_cfg.model.input_streams)
            cfg.model.teacher_checkpoint = teacher['checkpoint']
            cfg.train_dataloader.dataset.pipeline = teacher_cfg.train_dataloader.dataset.pipeline
            inputs.append(teacher['checkpoint'])
            if spec.swept:
                if weights is None:
                    raise ValueError(f'row {row!r} distils at the weights chosen on val: run '
                                     'the sweep first or give them')
                if cfg.model.loss_local is not None:
                    cfg.model.loss_local.loss_weight = weights[0]
                if cfg.model.loss_global is not None:
                    cfg.model.loss_global.loss_weight = weights[1]
        return cfg, run_settings(row, spec.config, cfg, seed, self.device, inputs)

    # -- runs ----------------------------------------------------------------------------------
    def run(self, name: str, cfg: Config, settings: dict, test: bool = True) -> dict:
        """Train ``cfg`` (resuming an interrupted run), test its best val checkpoint once
        (``test=False``: train only); store and return the result."""
        done = self.store.find(name, settings)
        if done is not None:
            return done
        cfg.work_dir = osp.join(self.work_dir, 'runs', self.store.key(name, settings))
        cfg.test_evaluator = dict(cfg.test_evaluator,
                                  dump_file=osp.join(cfg.work_dir, 'test_predictions.json'))
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            cfg.resume = True
        print_log(f'[weak benchmark] {name}: {cfg.work_dir}', logger='current')
        start = time.time()
        if test:
            metrics = train_and_test(cfg)
            runner = metrics.pop('runner')
            ious = top1_ious(cfg.test_evaluator.dump_file)
        else:
            runner = Runner.from_cfg(cfg)
            runner.train()
            metrics, ious = dict(minutes=(time.time() - start) / 60), None
        hub = runner.message_hub
        result = dict(test=metrics, best_val=hub.get_info('best_score'),
                      checkpoint=hub.get_info('best_ckpt'), ious=ious,
                      val_curve=val_history(cfg.work_dir))
        return self.store.put(name, settings, result)

    def run_row(self, row: str, seed: int) -> dict:
        """One run of ``row`` (stored result if there is one); a teacher's branches are then
        tested alone."""
        cfg, settings = self.row_config(row, seed, self.chosen_weights()
                                        if ROWS[row].swept else None)
        result = self.run(row, cfg, settings)
        for index, branch in enumerate(ROWS[row].branches):
            self.test_branch(row, cfg, settings, result, index, branch)
        return result

    def test_branch(self, row: str, cfg: Config, settings: dict, result: dict, index: int,
                    branch: str) -> dict:
        """The teacher run's checkpoint tested with branch ``index`` alone."""
        name = f'{row}, {branch} branch'
        done = self.store.find(name, settings)
        if done is not None:
            return done
        cfg = copy.deepcopy(cfg)
        cfg.model.predict_with = f'branch{index}'
        cfg.work_dir = osp.join(osp.dirname(result['checkpoint']), f'branch{index}')
        cfg.load_from = result['checkpoint']
        cfg.test_evaluator = dict(cfg.test_evaluator,
                                  dump_file=osp.join(cfg.work_dir, 'test_predictions.json'))
        metrics = dict(Runner.from_cfg(cfg).test())
        return self.store.put(name, settings,
                              dict(test=metrics, ious=top1_ious(cfg.test_evaluator.dump_file)))

    def run_rows(self, rows: Sequence[str], seeds: Optional[Sequence[int]] = None) -> None:
        """``rows`` for every seed, seed by seed (teachers with the teacher seeds only)."""
        for seed in seeds or self.seeds:
            for row in rows:
                if not ROWS[row].once or seed in self.teacher_seeds:
                    self.run_row(row, seed)

    def reported_seeds(self, row: str) -> List[int]:
        """The seeds ``row`` is looked up at: a teacher's the row and teacher seeds, sorted."""
        if not ROWS[row].once:
            return list(self.seeds)
        return sorted(set(self.seeds) | set(self.teacher_seeds))

    def prior(self) -> dict:
        """The median-span prior's test result (computed once, keyed by the annotations)."""
        cfg = self.config(ROWS[BASELINE].config, self.seeds[0])
        train, test = (cfg[f'{s}_dataloader'].dataset.ann_file for s in ('train', 'test'))
        settings = dict(train=file_digest(train), test=file_digest(test))
        found = self.store.get(PRIOR, settings)
        if found is None:
            ious = median_span_prior(train, test)
            found = self.store.put(PRIOR, settings, dict(test=metrics_of(ious), ious=ious))
        return found

    # -- the sweep on val ----------------------------------------------------------------------
    def sweep(self) -> Dict[Tuple[float, float], Optional[float]]:
        """The sweep row at every weight pair of a grid of several (val only; the students of
        the sweep seed distil the teacher-seed teacher). A grid of one pair is not swept."""
        if len(self.weight_grid) == 1:
            return {self.weight_grid[0]: None}
        for weights in self.weight_grid:
            cfg, settings = self.row_config(SWEEP_ROW, self.sweep_seed, weights)
            self.run(f'sweep {SWEEP_ROW}', cfg, settings, test=False)
        return self.sweep_scores()

    def sweep_scores(self) -> Dict[Tuple[float, float], Optional[float]]:
        """Best val R1@0.5 of every weight pair run so far (None: not run, or not swept)."""
        scores: Dict[Tuple[float, float], Optional[float]] = {}
        if len(self.weight_grid) == 1:
            return {self.weight_grid[0]: None}
        teacher = self._stored(ROWS[SWEEP_ROW].teacher, self.teacher_seed)
        for weights in self.weight_grid:
            if teacher is None:
                scores[weights] = None
                continue
            cfg, settings = self.row_config(SWEEP_ROW, self.sweep_seed, weights, train=False)
            result = self.store.find(f'sweep {SWEEP_ROW}', settings)
            scores[weights] = None if result is None else result['best_val']
        return scores

    def chosen_weights(self) -> Tuple[float, float]:
        """The sweep's winner by best val R1@0.5 (the whole grid must have run); the pair of a
        grid of one."""
        if len(self.weight_grid) == 1:
            return self.weight_grid[0]
        scores = self.sweep_scores()
        missing = [w for w, s in scores.items() if s is None]
        if missing:
            raise RuntimeError(f'the weight sweep has not run {missing} yet (stage sweep)')
        return max(scores, key=scores.get)

    # -- results -------------------------------------------------------------------------------
    def _stored(self, row: str, seed: int) -> Optional[dict]:
        """The stored result of ``row`` and ``seed`` (None: not run; never trains)."""
        try:
            weights = self.chosen_weights() if ROWS[row].swept else None
            cfg, settings = self.row_config(row, seed, weights, train=False)
        except (RuntimeError, LookupError):
            return None
        return self.store.find(row, settings)

    def _stored_branch(self, row: str, seed: int, branch: str) -> Optional[dict]:
        """The stored test of teacher ``row``'s ``branch`` alone (None: not run)."""
        cfg, settings = self.row_config(row, seed, None, train=False)
        return self.store.find(f'{row}, {branch} branch', settings)

    def collect(self, rows: Sequence[str]) -> Dict[str, Dict[Optional[int], dict]]:
        """``{row: {seed: result}}`` of the finished runs (the prior under every seed, the
        teachers' branches under their own names, teachers at :meth:`reported_seeds`)."""
        found: Dict[str, Dict[Optional[int], dict]] = {}
        prior = self.prior()
        found[PRIOR] = {seed: prior for seed in self.seeds}
        for row in rows:
            for seed in self.reported_seeds(row):
                result = self._stored(row, seed)
                if result is None:
                    continue
                found.setdefault(row, {})[seed] = result
                for branch in ROWS[row].branches:
                    done = self._stored_branch(row, seed, branch)
                    if done is not None:
                        found.setdefault(f'{row}, {branch} branch', {})[seed] = done
        return found


def summary_rows(found: Dict[str, Dict[Optional[int], dict]]) -> List[dict]:
    """Table rows: metrics mean/sd over seeds, Δ R1@0.5 vs the weak student alone (two-level
    bootstrap CI over the seeds both have), per-seed deltas, minutes per run."""
    rows = []
    for name, runs in found.items():
        entry = seed_summary(name, runs)
        if name != BASELINE:
            comparison = paired(found, name, BASELINE)
            if comparison:
                entry.update(ci=comparison['ci'], deltas=comparison['deltas'])
        rows.append(entry)
    return rows


def markdown_table(rows: List[dict]) -> str:
    """The summary as a markdown table."""
    lines = [f'| row | seeds | R1@0.3 | R1@0.5 | R1@0.7 | mIoU | Δ R1@0.5 vs {BASELINE} '
             '[95% CI, seeds and queries] | per-seed Δ | min / run |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        minutes = '—' if r.get('minutes') is None else f'{r["minutes"]:.1f}'
        lines.append('| ' + ' | '.join([*summary_cells(r), minutes]) + ' |')
    return '\n'.join(lines)


def comparison_table(found: Dict[str, Dict[Optional[int], dict]],
                     pairs: Sequence[Tuple[str, str]] = COMPARISONS) -> str:
    """The verdict's paired comparisons as a markdown table (pairs not run are left out)."""
    lines = ['| comparison | seeds | Δ R1@0.5 [95% CI] | per seed |', '| --- | --- | --- | --- |']
    for row, ref in pairs:
        result = paired(found, row, ref)
        if result is None:
            continue
        mean, low, high = result['ci']
        lines.append(f'| {row} vs {ref} | {", ".join(map(str, result["seeds"]))} | '
                     f'{mean:+.1f} [{low:+.1f}, {high:+.1f}] | '
                     + ' / '.join(f'{d:+.1f}' for d in result['deltas']) + ' |')
    return '\n'.join(lines)


def sweep_table(scores: Dict[Tuple[float, float], Optional[float]]) -> str:
    """The weight sweep: best val R1@0.5 of each (local, global) pair."""
    lines = ['| local weight, global weight | best val R1@0.5 |', '| --- | --- |']
    for (local, glob), score in scores.items():
        lines.append(f'| {local:g}, {glob:g} | '
                     + ('not swept' if len(scores) == 1 else 'not run' if score is None
                        else f'{score:.1f}') + ' |')
    return '\n'.join(lines)
