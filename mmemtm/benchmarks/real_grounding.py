"""The real-feature accuracy benchmark: teachers, the distillation ladder and EMTM on
Charades-STA CLIP features, with seeds, paired comparisons and two-level bootstrap CIs.

Protocol (what ``tools/analysis/benchmark_real.py`` runs):

1. each offline teacher is trained (its config's own schedule: best val checkpoint, early stopping
   on val), tested once, and its curves are dumped for the train split (what the students distil)
   and the test split (to decode the teachers' mixtures);
2. the KD sweep, on val only: the plain-average KD row for each ``(kd_weight, kd_temperature)`` of
   the grid, with a seed of its own (not one of the rows' seeds), ranked by its best val R1@0.5;
   no candidate is ever tested. Every distilling row then uses the winner;
3. the ladder: every student-side row for every seed (the same seed gives every row the same
   student initialisation, so rows are paired); each row's best val checkpoint is tested once,
   with per-query IoUs kept; student-side runs take ``epochs``, teachers never do;
4. the teachers' test curves decoded alone, averaged and mixed by each KAU run's aggregator, with
   the share of test queries on which the KAU weighs each teacher most;
5. Δ R1@0.5 against "student alone": two-level bootstrap (seeds, then queries) and per-seed deltas.

Every result is stored with the settings that produced it (config text, curve and annotation file
digests, epochs, seed, device: :class:`~mmemtm.benchmarks.store.ResultStore`), so an interrupted
benchmark resumes where it stopped and a changed setting never reuses an old result.
"""
import copy
import glob
import itertools
import json
import os.path as osp
import time
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner, load_checkpoint

from mmemtm.apis.cross_fitting import cross_fit_teacher_curves
from mmemtm.apis.curve_dumping import dump_teacher_curves
from mmemtm.apis.teacher_ensembles import evaluate_teacher_curves, fit_teacher_weights
from mmemtm.engine import set_epochs
from .experiments import (aggregator_curve_files, set_aggregator_curves, set_teacher_curves,
                          teacher_curve_files, train_and_test)
from .statistics import per_seed_deltas, two_level_bootstrap
from .store import ResultStore, file_digest, run_settings

#: Offline teachers (name -> config), in EMTM's teacher order.
TEACHERS = {
    'SeqPAN': 'configs/teachers/seqpan_charades_clip.py',
    '2D-TAN': 'configs/teachers/tan2d_charades_clip.py',
    'SCDM': 'configs/teachers/scdm_charades_clip.py',
}
ALL = tuple(TEACHERS)


class Row(NamedTuple):
    """A student-side row: its config, the teachers it distils from, whether it takes the swept
    KD setting, and which curves it distils (``kd_curves``) and fits its KAU on
    (``aggregator_curves``, None: the distilled ones), one of :data:`CURVE_KINDS`:
    ``'in-sample'`` (the teachers' curves of their own training split), ``'out-of-fold'``
    (cross-fitted) or ``'mc-dropout'`` (in-sample, averaged over dropout samples).
    ``val_weights``: the row's aggregator is ``FixedTeacherWeights`` fitted on the teachers' val
    curves."""
    config: str
    teachers: Tuple[str, ...] = ()
    swept: bool = True
    kd_curves: str = 'in-sample'
    aggregator_curves: Optional[str] = None
    val_weights: bool = False


#: Kinds of train curves a row distils or fits its aggregator on -> curve-file split.
CURVE_KINDS = {'in-sample': 'train', 'out-of-fold': 'train-oof', 'mc-dropout': 'train-mc'}
ABLATIONS = 'configs/ablations/emtm_charades_clip_'
#: The project's default EMTM config on these features: label KD from the plain average of two
#: teachers, 2D-TAN and SCDM (one teacher's curves: KD from that teacher alone); chosen on val over
#: the plain average of all three (:data:`THREE`) and EMTM's other variants.
DEFAULT = 'configs/emtm_charades_clip.py'
#: Label KD from the plain average of the three teachers (the default before the two-teacher one).
THREE = ABLATIONS + 'average_of_three.py'
DEFAULT_ROW = 'KD: plain average of 2D-TAN and SCDM (default)'
#: The ladder: each distilling row adds one of EMTM's parts to the row above it; then the KAU's
#: variants, the rows with cross-fitted or MC-dropout curves, and the default.
ROWS: Dict[str, Row] = {
    'student alone': Row(ABLATIONS + 'student_only.py', swept=False),
    'KD: SeqPAN': Row(DEFAULT, ('SeqPAN', )),
    'KD: 2D-TAN': Row(DEFAULT, ('2D-TAN', )),
    'KD: SCDM': Row(DEFAULT, ('SCDM', )),
    'KD: plain average of the three': Row(THREE, ALL),
    '+ KAU': Row(ABLATIONS + 'kau.py', ALL),
    '+ co-trained branch (published EMTM)': Row(ABLATIONS + 'published.py', ALL),
    'co-trained branch alone': Row(ABLATIONS + 'cotrained_only.py', swept=False),
    'EMTM, previous default': Row(ABLATIONS + 'previous_default.py', ALL, swept=False),
    'KAU fitted out of fold': Row(ABLATIONS + 'kau_out_of_fold.py', ALL,
                                  aggregator_curves='out-of-fold'),
    'KAU fitted in-sample, detached': Row(ABLATIONS + 'kau_in_sample.py', ALL),
    'KD: SeqPAN, out-of-fold': Row(DEFAULT, ('SeqPAN', ), kd_curves='out-of-fold'),
    'KD: plain average, out-of-fold': Row(THREE, ALL, kd_curves='out-of-fold'),
    'KD: plain average, MC-dropout curves': Row(THREE, ALL, kd_curves='mc-dropout'),
    'KD: teacher weights fitted on val': Row(ABLATIONS + 'val_weights.py', ALL,
                                             val_weights=True),
    # The plain average without the teacher that memorises its training split most (SeqPAN:
    # train decode 71.3 in-sample, test 33.1).
    DEFAULT_ROW: Row(DEFAULT, ('2D-TAN', 'SCDM')),
}
#: The row the KD setting is swept on.
SWEEP_ROW = 'KD: plain average of the three'
BASELINE = 'student alone'
#: Rows compared head to head in the report (row, reference): the default against the
#: single-teacher KD rows and the three-teacher average, and EMTM's variants and levers against
#: the three-teacher average they add to or replace, on the seeds both have.
COMPARISONS = (
    (DEFAULT_ROW, 'KD: SCDM'),
    (DEFAULT_ROW, 'KD: 2D-TAN'),
    (DEFAULT_ROW, 'KD: SeqPAN'),
    (DEFAULT_ROW, SWEEP_ROW),
    (SWEEP_ROW, 'KD: SCDM'),
    ('+ KAU', SWEEP_ROW),
    ('+ co-trained branch (published EMTM)', '+ KAU'),
    ('+ co-trained branch (published EMTM)', SWEEP_ROW),
    ('KAU fitted out of fold', SWEEP_ROW),
    ('KD: teacher weights fitted on val', SWEEP_ROW),
    ('KD: plain average, MC-dropout curves', SWEEP_ROW),
)
#: Aggregators whose runs also decode the teachers' test curves with their weights.
WEIGHING_AGGREGATORS = ('KnowledgeAggregationUnit', 'FixedTeacherWeights')
#: Decoded mixtures of the teachers' test curves (from each run with a weighing aggregator).
MIXTURES = ('plain average of teachers', 'KAU mixture')
METRICS = ('R1@0.3', 'R1@0.5', 'R1@0.7', 'mIoU')
METRIC = 'R1@0.5'


class RealBenchmark:
    """Runs and results of one benchmark folder.

    Args:
        work_dir: Folder of the runs, the teachers' curves and the result store.
        seeds: Seeds of the student-side rows.
        kd_grid: ``(kd_weight, kd_temperature)`` pairs of the KD sweep.
        epochs: Epochs of every student-side run (None: the configs' own); teachers keep theirs.
        device: ``'cpu'`` or ``'cuda'``.
        teacher_seed: Seed of the teachers' training.
        sweep_seed: Seed of the sweep's runs (kept apart from ``seeds``).
        folds: Folds ``K`` of the teachers' cross-fitted train curves.
        dropout_samples: Dropout samples averaged in the teachers' MC-dropout train curves.
    """

    def __init__(self, work_dir: str, seeds: Sequence[int] = (0, 1, 2),
                 kd_grid: Sequence[Tuple[float, float]] = ((0.1, 1.0), (1.0, 1.0), (1.0, 3.0),
                                                           (3.0, 1.0)),
                 epochs: Optional[int] = None, device: str = 'cpu', teacher_seed: int = 0,
                 sweep_seed: int = 100, folds: int = 2, dropout_samples: int = 8) -> None:
        if sweep_seed in seeds:
            raise ValueError(f'the sweep seed {sweep_seed} is also a row seed: the chosen '
                             'setting would be tested on the run it was chosen with')
        self.work_dir = work_dir
        self.seeds = list(seeds)
        self.kd_grid = [tuple(map(float, kd)) for kd in kd_grid]
        self.epochs = epochs
        self.device = device
        self.teacher_seed = teacher_seed
        self.sweep_seed = sweep_seed
        self.folds = folds
        self.dropout_samples = dropout_samples
        self._parsed: Dict[str, Config] = {}
        self.store = ResultStore(osp.join(work_dir, 'results'))

    # -- configs and settings ------------------------------------------------------------------
    def config(self, path: str, seed: int, student: bool) -> Config:
        """``path``'s config for one run: seed, device, per-query test dump; the benchmark's
        epochs for student-side runs only."""
        if path not in self._parsed:
            self._parsed[path] = Config.fromfile(path)
        cfg = copy.deepcopy(self._parsed[path])
        cfg.randomness = dict(seed=seed, deterministic=False)
        if student and self.epochs is not None:
            set_epochs(cfg, self.epochs)
        cfg.device = self.device
        return cfg

    def settings(self, name: str, path: str, cfg: Config, seed: int, **extra) -> dict:
        """Everything that changes the result of a run of ``cfg``."""
        data = [cfg[f'{s}_dataloader'].dataset.ann_file for s in ('train', 'val', 'test')]
        inputs = [*data, *(teacher_curve_files(cfg) or []), *aggregator_curve_files(cfg)]
        return run_settings(name, path, cfg, seed, self.device, inputs, **extra)

    def run_dir(self, name: str, settings: dict) -> str:
        """``runs/<name>/<fingerprint>``: a changed setting never resumes an old run."""
        return osp.join(self.work_dir, 'runs', self.store.key(name, settings))

    def curve_file(self, teacher: str, split: str) -> str:
        """The teacher's curves of ``split`` (``'train-oof'``: its cross-fitted train curves;
        ``'train-mc'``: its train curves averaged over dropout samples)."""
        suffix = {'train-oof': f'train_oof{self.folds}',
                  'train-mc': f'train_mc{self.dropout_samples}'}.get(split, split)
        return osp.join(self.work_dir, 'curves', f'{teacher}_{suffix}.npz')

    # -- runs ----------------------------------------------------------------------------------
    def run(self, name: str, cfg: Config, settings: dict, test: bool = True) -> dict:
        """Train ``cfg`` (resuming an interrupted run), then test its best val checkpoint once
        (``test=False``: train only, e.g. sweep candidates); store the result."""
        done = self.store.find(name, settings)
        if done is not None:
            return done
        cfg.work_dir = self.run_dir(name, settings)
        cfg.test_evaluator = dict(cfg.test_evaluator,
                                  dump_file=osp.join(cfg.work_dir, 'test_predictions.json'))
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            cfg.resume = True  # an interrupted run continues exactly (RandomStateHook)
        print_log(f'[benchmark] {name}: {cfg.work_dir}', logger='current')
        if test:
            metrics = train_and_test(cfg)
            runner = metrics.pop('runner')
            ious = top1_ious(cfg.test_evaluator.dump_file)
        else:
            start = time.time()
            runner = Runner.from_cfg(cfg)
            runner.train()
            metrics, ious = dict(minutes=(time.time() - start) / 60), None
        hub = runner.message_hub
        result = dict(test=metrics, best_val=hub.get_info('best_score'),
                      checkpoint=hub.get_info('best_ckpt'), ious=ious,
                      val_curve=val_history(cfg.work_dir))
        self._last_runner = runner
        return self.store.put(name, settings, result)

    def train_teachers(self, names: Sequence[str] = ALL) -> None:
        """Train the teachers and dump their train/val/test curves and their MC-dropout train
        curves (skipping what is done)."""
        for name in names:
            path = TEACHERS[name]
            cfg = self.config(path, self.teacher_seed, student=False)
            settings = self.settings(f'teacher {name}', path, cfg, self.teacher_seed)
            missing = {s: self.curve_file(name, s) for s in ('train', 'val', 'test', 'train-mc')
                       if not osp.isfile(self.curve_file(name, s))}
            result = self.store.get(f'teacher {name}', settings)
            if result is not None and not missing:
                continue
            model = (self._load(cfg, result['checkpoint']) if result
                     else self._trained(f'teacher {name}', cfg, settings))
            for split, out in missing.items():
                samples = self.dropout_samples if split == 'train-mc' else 1
                dump_teacher_curves(model, cfg, out, split.split('-')[0], name=name,
                                    extra_meta=dict(teacher_run=settings['config']),
                                    dropout_samples=samples)

    def val_weights(self, teachers: Sequence[str], cfg: Config) -> List[List[float]]:
        """``[T, 2]`` teacher weights fitted on the teachers' val curves (stored, keyed by the
        curves, the annotations and the curve loading of ``cfg``)."""
        files = [self.curve_file(t, 'val') for t in teachers]
        missing = [f for f in files if not osp.isfile(f)]
        if missing:
            raise FileNotFoundError(f'teacher weights are fitted on val curves that are not '
                                    f'there yet: {missing} (run the teachers stage)')
        loading = [t for t in cfg.train_dataloader.dataset.pipeline
                   if t['type'] in ('LoadTeacherCurves', 'BuildGroundingTargets')]
        settings = dict(teachers=list(teachers), curves=[file_digest(f) for f in files],
                        ann_file=file_digest(cfg.val_dataloader.dataset.ann_file),
                        loading=repr([{k: v for k, v in t.items() if 'files' not in k}
                                      for t in loading]))
        result = self.store.get('teacher weights fitted on val', settings)
        if result is None:
            weights = fit_teacher_weights(MODELS.build(cfg.model), cfg, files)
            result = self.store.put('teacher weights fitted on val', settings,
                                    dict(weights=weights.tolist()))
        return result['weights']

    def cross_fit_teachers(self, names: Sequence[str] = ALL) -> None:
        """The teachers' out-of-fold train curves (``K`` = ``folds`` trainings per teacher, on
        the teachers' own schedules and seed; resumable per fold)."""
        for name in names:
            out = self.curve_file(name, 'train-oof')
            if not osp.isfile(out):
                cross_fit_teacher_curves(
                    TEACHERS[name], out,
                    osp.join(self.work_dir, 'cross_fit', f'{name}_K{self.folds}'), self.folds,
                    name=name, device=self.device, seed=self.teacher_seed)

    def _trained(self, name: str, cfg: Config, settings: dict):
        self.run(name, cfg, settings)
        return self._last_runner.model

    @staticmethod
    def _load(cfg: Config, checkpoint: str):
        model = MODELS.build(cfg.model)
        load_checkpoint(model, checkpoint, map_location='cpu')
        return model

    def student(self, row: str, seed: int, kd: Optional[Tuple[float, float]]
                ) -> Tuple[Config, dict]:
        """Config and settings of one student-side run of ``row``."""
        spec = ROWS[row]
        path, teachers = spec.config, spec.teachers
        cfg = self.config(path, seed, student=True)
        if teachers:
            split = CURVE_KINDS
            needed = {split[kind] for kind in (spec.kd_curves, spec.aggregator_curves) if kind}
            missing = [self.curve_file(t, s) for t in teachers for s in sorted(needed)
                       if not osp.isfile(self.curve_file(t, s))]
            if missing:
                raise FileNotFoundError(f'row {row!r} distils curves that are not there yet: '
                                        f'{missing} (run the teachers and cross-fit stages)')
            set_teacher_curves(cfg, [self.curve_file(t, split[spec.kd_curves]) for t in teachers])
            set_aggregator_curves(cfg, None if spec.aggregator_curves is None else [
                self.curve_file(t, split[spec.aggregator_curves]) for t in teachers])
            cfg.model.num_teachers = len(teachers)
            if spec.val_weights:
                cfg.model.aggregator = dict(type='FixedTeacherWeights',
                                            weights=self.val_weights(teachers, cfg))
            if spec.swept:
                if kd is None:
                    raise ValueError(f'row {row!r} distils at the swept KD setting: run the '
                                     'sweep first or give one')
                cfg.model.loss_kd.loss_weight, cfg.model.loss_kd.temperature = kd
        return cfg, self.settings(row, path, cfg, seed)

    def kd_sweep(self, grid: Optional[Sequence[Tuple[float, float]]] = None
                 ) -> Dict[Tuple[float, float], Optional[float]]:
        """The sweep row at each KD setting (``grid``: a part of the benchmark's grid), trained
        on the sweep seed and scored by best val R1@0.5 only; returns every scored setting."""
        for kd in grid or self.kd_grid:
            cfg, settings = self.student(SWEEP_ROW, self.sweep_seed, kd)
            self.run(f'sweep {SWEEP_ROW}', cfg, settings, test=False)
        return self.sweep_scores()

    def sweep_scores(self) -> Dict[Tuple[float, float], Optional[float]]:
        scores = {}
        for kd in self.kd_grid:
            try:
                _, settings = self.student(SWEEP_ROW, self.sweep_seed, kd)
            except FileNotFoundError:
                scores[kd] = None
                continue
            result = self.store.find(f'sweep {SWEEP_ROW}', settings)
            scores[kd] = None if result is None else result['best_val']
        return scores

    def chosen_kd(self) -> Tuple[float, float]:
        """The sweep's winner by val R1@0.5 (every grid setting must have run)."""
        scores = self.sweep_scores()
        missing = [kd for kd, score in scores.items() if score is None]
        if missing:
            raise RuntimeError(f'the KD sweep has not run {missing} yet')
        return max(scores, key=scores.get)

    def run_rows(self, rows: Sequence[str], seeds: Optional[Sequence[int]] = None,
                 kd: Optional[Tuple[float, float]] = None) -> None:
        """``rows`` for every seed, seed by seed; rows that weigh the teachers also decode the
        teachers' test curves with their weights."""
        for seed in seeds or self.seeds:
            for row in rows:
                cfg, settings = self.student(row, seed, kd)
                result = self.run(row, cfg, settings)
                if (cfg.model.get('aggregator') or {}).get('type') in WEIGHING_AGGREGATORS:
                    self.decode_mixtures(row, cfg, settings, result)

    def decode_mixtures(self, row: str, cfg: Config, settings: dict, result: dict) -> None:
        """The teachers' test curves decoded alone, averaged and mixed by the run's KAU."""
        name = f'mixtures of {row}'
        if self.store.find(name, settings) is not None:
            return
        model = self._load(cfg, result['checkpoint'])
        folder = osp.dirname(result['checkpoint'])
        dumps = {m: osp.join(folder, f'{m.replace(" ", "_")}.json') for m in MIXTURES}
        teachers = ROWS[row].teachers
        metrics = evaluate_teacher_curves(model, cfg, [self.curve_file(t, 'test') for t in
                                                       teachers], list(teachers),
                                          dump_files=dumps)
        self.store.put(name, settings, {m: dict(test=metrics[m], ious=top1_ious(dumps[m]))
                                        for m in MIXTURES})

    def train_decodes(self, names: Sequence[str] = ALL) -> Dict[str, Dict[str, float]]:
        """Each teacher's train-split curves decoded against the train ground truth, in-sample,
        out-of-fold (where cross-fitted) and averaged over dropout samples (where dumped), beside
        its test R1@0.5: how much it memorised."""
        table: Dict[str, Dict[str, float]] = {}
        for name in names:
            files = {'in-sample': self.curve_file(name, 'train'),
                     f'out-of-fold (K={self.folds})': self.curve_file(name, 'train-oof'),
                     f'MC dropout ({self.dropout_samples})': self.curve_file(name, 'train-mc')}
            row = {}
            for kind, path in files.items():
                if not osp.isfile(path):
                    continue
                cfg = self.config(ROWS[SWEEP_ROW].config, self.teacher_seed, student=False)
                settings = dict(teacher=name, curves=file_digest(path),
                                ann_file=file_digest(cfg.train_dataloader.dataset.ann_file))
                result = self.store.get('train decode', settings)
                if result is None:
                    cfg.model.num_teachers = 1
                    metrics = evaluate_teacher_curves(MODELS.build(cfg.model), cfg, [path],
                                                      [name], split='train')
                    result = self.store.put('train decode', settings, metrics[name])
                row[f'train, {kind}'] = result[METRIC]
            table[name] = row
        return table

    def encoder_gradients(self, row: str, seed: int, kd: Optional[Tuple[float, float]],
                          batches: int = 20) -> Optional[Dict[str, Dict[str, float]]]:
        """What each loss term of a trained run does to the shared encoder the student uses at
        inference: the norm of its gradient on the encoder's parameters and the cosine of that
        gradient with the student's own hard losses' (mean over ``batches`` training batches,
        dropout off). None until the run has finished."""
        cfg, settings = self.student(row, seed, kd)
        result = self.store.find(row, settings)
        if result is None:
            return None
        name = f'encoder gradients of {row}'
        done = self.store.find(name, settings)
        if done is not None:
            return done
        model = self._load(cfg, result['checkpoint']).eval()
        loader = Runner.build_dataloader(dict(cfg.train_dataloader, num_workers=0,
                                              persistent_workers=False))
        data = (model.data_preprocessor(d, True) for d in itertools.islice(loader, batches))
        table = encoder_gradient_stats(model, data)
        return self.store.put(name, settings, table)

    # -- report --------------------------------------------------------------------------------
    def collect(self, rows: Sequence[str], kd: Optional[Tuple[float, float]]
                ) -> Dict[str, Dict[int, dict]]:
        """``{row: {seed: result}}`` of the finished runs (teachers under seed None)."""
        found: Dict[str, Dict[int, dict]] = {}
        for name, path in TEACHERS.items():
            cfg = self.config(path, self.teacher_seed, student=False)
            result = self.store.get(f'teacher {name}',
                                    self.settings(f'teacher {name}', path, cfg,
                                                  self.teacher_seed))
            if result is not None:
                found[f'teacher: {name}'] = {None: result}
        for row in rows:
            for seed in self.seeds:
                try:
                    cfg, settings = self.student(row, seed, kd)
                except (ValueError, FileNotFoundError):
                    continue
                result = self.store.find(row, settings)
                if result is not None:
                    found.setdefault(row, {})[seed] = result
                mixtures = self.store.find(f'mixtures of {row}', settings)
                for mixture, value in (mixtures or {}).items():
                    found.setdefault(f'{mixture} ({row})', {})[seed] = value
        return found


#: Loss terms of EMTM by the prefix of their loss keys.
LOSS_TERMS = ('student', 'cotrained', 'kd', 'kau', 'align')


def encoder_gradient_stats(model: torch.nn.Module, batches: Iterable[dict]
                           ) -> Dict[str, Dict[str, float]]:
    """Per loss term of an EMTM (``loss_<term>*`` keys): the norm of its gradient on the shared
    encoder's parameters and the cosine of that gradient with the student's hard losses', averaged
    over ``batches`` (preprocessed ``dict(inputs, data_samples)``; run the model in eval mode for
    gradients without dropout)."""
    params = [p for p in model.encoder.parameters() if p.requires_grad]
    sums: Dict[str, np.ndarray] = {}
    count = 0
    for data in batches:
        losses = model.loss(data['inputs'], data['data_samples'])
        grads = {}
        for term in LOSS_TERMS:
            parts = [v for k, v in losses.items() if k.startswith(f'loss_{term}')]
            if parts:
                flat = torch.autograd.grad(sum(parts), params, retain_graph=True,
                                           allow_unused=True)
                grads[term] = torch.cat([(g if g is not None else torch.zeros_like(p)).flatten()
                                         for g, p in zip(flat, params)])
        for term, grad in grads.items():
            cosine = torch.nn.functional.cosine_similarity(grad, grads['student'], dim=0)
            sums[term] = sums.get(term, np.zeros(2)) + (float(grad.norm()), float(cosine))
        count += 1
    return {term: dict(norm=float(v[0] / count), cosine_with_student=float(v[1] / count))
            for term, v in sums.items()}


def val_history(work_dir: str) -> List[float]:
    """Val R1@0.5 after each epoch of a run (from mmengine's scalars log)."""
    history = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path, encoding='utf-8') as f:
            for line in f:
                record = json.loads(line)
                if METRIC in record and 'lr' not in record:
                    history.append(float(record[METRIC]))
    return history


def top1_ious(dump_file: str) -> Dict[str, float]:
    """``{query id: IoU of the top-1 moment}`` of a ``GroundingMetric(dump_file=...)`` file."""
    with open(dump_file, encoding='utf-8') as f:
        return {r['query_id']: r['ious'][0] for r in json.load(f)}


def hits(runs: Dict[int, dict], seeds: Sequence[int], queries: List[str],
         thr: float = 0.5) -> np.ndarray:
    """``[S, Q]`` 0/1 of top-1 IoU >= ``thr`` of one row's runs."""
    return np.array([[runs[s]['ious'][q] >= thr - 1e-9 for q in queries] for s in seeds],
                    np.float64)


def paired(found: Dict[str, Dict[Optional[int], dict]], row: str, ref: str) -> Optional[dict]:
    """Δ R1@0.5 of ``row`` against ``ref`` on the seeds both have (a teacher's seed None never
    pairs): two-level bootstrap ``ci`` ``(mean, low, high)``, per-seed ``deltas`` and the
    ``seeds``; None if they share none."""
    runs, base = found.get(row, {}), found.get(ref, {})
    seeds = sorted(s for s in runs if s is not None and s in base)
    if not seeds:
        return None
    queries = sorted(base[seeds[0]]['ious'])
    a, b = hits(runs, seeds, queries), hits(base, seeds, queries)
    return dict(ci=two_level_bootstrap(a, b), deltas=per_seed_deltas(a, b), seeds=seeds)


def seed_summary(name: str, runs: Dict[Optional[int], dict]) -> dict:
    """A table row of ``runs``' test results: ``row``, ``seeds``, each metric's mean and sd over
    the seeds and the mean ``minutes`` per run."""
    entry = dict(row=name, seeds=len(runs))
    for metric in METRICS:
        values = [r['test'][metric] for r in runs.values()]
        entry[metric] = (float(np.mean(values)),
                         float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
    minutes = [r['test']['minutes'] for r in runs.values() if 'minutes' in r['test']]
    entry['minutes'] = float(np.mean(minutes)) if minutes else None
    return entry


def summary_rows(found: Dict[str, Dict[int, dict]]) -> List[dict]:
    """Table rows: name, metrics mean/sd over seeds, Δ R1@0.5 vs student alone (two-level
    bootstrap CI over the seeds both have) and the per-seed deltas."""
    rows = []
    for name, runs in found.items():
        entry = seed_summary(name, runs)
        best_val = [r['best_val'] for r in runs.values() if r.get('best_val') is not None]
        entry['val'] = float(np.mean(best_val)) if best_val else None
        comparison = None if name == BASELINE else paired(found, name, BASELINE)
        if comparison:
            entry.update(ci=comparison['ci'], deltas=comparison['deltas'])
        rows.append(entry)
    return rows


def markdown_table(rows: List[dict]) -> str:
    """The summary as a markdown table (mean ± sd over seeds; Δ R1@0.5 vs student alone with its
    two-level 95% CI and the per-seed deltas; the mean best val R1@0.5, the score rows are
    chosen by)."""
    lines = ['| row | seeds | R1@0.3 | R1@0.5 | R1@0.7 | mIoU | Δ R1@0.5 vs student alone '
             '[95% CI, seeds and queries] | per-seed Δ | best val R1@0.5 | min / run |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        minutes = '—' if r.get('minutes') is None else f'{r["minutes"]:.0f}'
        val = '—' if r.get('val') is None else f'{r["val"]:.1f}'
        lines.append('| ' + ' | '.join([*summary_cells(r), val, minutes]) + ' |')
    return '\n'.join(lines)


def summary_cells(row: dict) -> List[str]:
    """A :func:`seed_summary` row's leading markdown cells: name, seeds, each metric (mean ± sd
    over seeds), Δ R1@0.5 with its CI and the per-seed deltas (``'—'`` where not compared)."""
    metrics = [f'{row[m][0]:.1f} ± {row[m][1]:.1f}' if row['seeds'] > 1 else f'{row[m][0]:.1f}'
               for m in METRICS]
    ci = row.get('ci')
    delta = f'{ci[0]:+.1f} [{ci[1]:+.1f}, {ci[2]:+.1f}]' if ci else '—'
    deltas = ' / '.join(f'{d:+.1f}' for d in row.get('deltas', [])) or '—'
    return [row['row'], str(row['seeds']), *metrics, delta, deltas]


def comparison_table(found: Dict[str, Dict[int, dict]],
                     pairs: Sequence[Tuple[str, str]] = COMPARISONS) -> str:
    """Rows against each other, paired on the seeds both have: Δ test R1@0.5 with its two-level
    95% CI, the per-seed deltas and the Δ of mean best val R1@0.5 on those seeds (pairs with a
    row not run are left out)."""
    lines = ['| row | against | seeds | Δ R1@0.5 test [95% CI] | per seed | Δ best val R1@0.5 |',
             '| --- | --- | --- | --- | --- | --- |']
    for name, ref in pairs:
        comparison = paired(found, name, ref)
        if comparison is None:
            continue
        seeds = comparison['seeds']
        mean, low, high = comparison['ci']
        deltas = ' / '.join(f'{d:+.1f}' for d in comparison['deltas'])
        val = np.mean([found[name][s]['best_val'] - found[ref][s]['best_val'] for s in seeds])
        lines.append(f'| {name} | {ref} | {", ".join(map(str, seeds))} | '
                     f'{mean:+.1f} [{low:+.1f}, {high:+.1f}] | {deltas} | {val:+.1f} |')
    return '\n'.join(lines)


def train_decode_table(decodes: Dict[str, Dict[str, float]],
                       found: Dict[str, Dict[int, dict]]) -> str:
    """Each teacher's R1@0.5 decoded from its train curves (in-sample, out-of-fold, MC dropout)
    and on test."""
    kinds = sorted({k for row in decodes.values() for k in row})
    lines = ['| teacher | ' + ' | '.join(f'R1@0.5 {k}' for k in kinds) + ' | R1@0.5 test |',
             '| --- |' + ' --- |' * (len(kinds) + 1)]
    for name, row in decodes.items():
        test = found.get(f'teacher: {name}', {}).get(None)
        cells = [f'{row[k]:.1f}' if k in row else '—' for k in kinds]
        lines.append(f'| {name} | ' + ' | '.join(cells)
                     + f' | {test["test"][METRIC]:.1f} |' if test else ' | — |')
    return '\n'.join(lines)


def gradient_table(gradients: Dict[str, Optional[Dict[str, Dict[str, float]]]]) -> str:
    """Per row and loss term: gradient norm on the shared encoder, cosine with the student's."""
    lines = ['| row | loss term | gradient norm on the shared encoder | cosine with the '
             "student's hard losses |", '| --- | --- | --- | --- |']
    for row, table in gradients.items():
        for term, value in (table or {}).items():
            lines.append(f'| {row} | {term} | {value["norm"]:.3g} | '
                         f'{value["cosine_with_student"]:+.2f} |')
    return '\n'.join(lines)


def sweep_table(scores: Dict[Tuple[float, float], Optional[float]]) -> str:
    """The KD sweep: best val R1@0.5 of each setting (no candidate is tested)."""
    lines = ['| kd_weight, T | best val R1@0.5 |', '| --- | --- |']
    for (weight, temperature), score in scores.items():
        lines.append(f'| {weight:g}, {temperature:g} | '
                     + ('not run' if score is None else f'{score:.1f}') + ' |')
    if all(score is not None for score in scores.values()):
        best = max(scores, key=scores.get)
        lines = [line.replace(f'| {best[0]:g}, {best[1]:g} |', f'| **{best[0]:g}, {best[1]:g}** |')
                 for line in lines]
    return '\n'.join(lines)
