"""The recognition distillation benchmark on real video: Charades action instances over the CLIP
ViT-L/14 features of the Charades-STA test videos (``configs/_base_/datasets/
charades_actions_clip.py``), teacher, student alone, logit KD, GKD and staged KD.

Protocol (what ``tools/analysis/benchmark_recognition_kd_charades.py`` runs):

1. the transformer teacher is trained once (``teacher_seed``); its best-on-val checkpoint
   (val mAP) is every distiller's teacher;
2. the student alone on every seed;
3. every distiller with its config's setting on every seed, seed by seed (so partial results
   are paired); then its other settings (:data:`SWEEPS`) on the sweep seed, and the setting
   with the best val mAP is kept (the choice is made on val only) and trained on every seed;
4. every run of a kept setting (teacher, student alone, each distiller's setting) is tested
   once: its best-on-val checkpoint, a distiller's stripped to its student, scores the test
   spans (the config's setting is tested before the choice, which reads val only);
5. mAP, top-1 and top-5 mean and sd over seeds; each row against the student alone with a
   two-level bootstrap (seeds, then test *videos* with all their spans: the spans of a video
   are not independent) and the per-seed differences; params and FLOPs of teacher and student
   (mmengine's ``get_model_complexity_info``, one span, the head included).

With :data:`PRIVILEGED_ROWS` (``--privileged-context``), the teacher sees more than the span:
its 8 steps followed by 8 steps of its surroundings (the span widened by its length on each
side); the students read the span only.

A seed gives every student row the same initial weights and data order (paired rows). Every run
is stored with everything that changes it (resolved config, options, seed, epochs, device,
digests of the annotation, split and feature-shape files and of the teacher checkpoint), so an
interrupted benchmark resumes where it stopped and a changed setting never reuses a run.
"""
import copy
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmemtm.apis.recognition_kd import strip_distiller_checkpoint, student_config
from mmemtm.engine import set_epochs
from mmemtm.evaluation.metrics import multi_label_accuracy
from mmemtm.utils import dump_json_atomic, save_npy_atomic
from mmemtm.utils.config_options import merge_cfg_options
from .experiments import train_resumable
from .recognition_kd import complexity
from .statistics import cluster_draws, two_level_from_draws
from .store import ResultStore, config_text, file_digest, run_settings

CONFIG_DIR = 'configs/recognition_kd'
TEACHER = 'teacher: transformer'
BASELINE = 'student alone'
#: Row name -> config (the teacher first).
ROWS = {
    TEACHER: f'{CONFIG_DIR}/transformer_teacher_charades_actions_clip.py',
    BASELINE: f'{CONFIG_DIR}/conv_student_charades_actions_clip.py',
    'logit KD': f'{CONFIG_DIR}/logit_kd_charades_actions_clip.py',
    'GKD': f'{CONFIG_DIR}/gkd_charades_actions_clip.py',
    'staged KD': f'{CONFIG_DIR}/staged_kd_charades_actions_clip.py',
}
DISTILLERS = ('logit KD', 'GKD', 'staged KD')
#: Settings of each distiller tried on val (``--cfg-options`` of its config; ``{}``: the config).
SWEEPS: Dict[str, List[dict]] = {
    'logit KD': [{}, {'model.loss_kd.temperature': 1.0}],
    # the published weights leave GKD's teacher terms at ~0.1 % of the loss on this set (attention
    # MSE 0.003 and reconstruction 0.1 against cross-entropy 3.5, seed 0): 100x the attention
    # GKD has no logit term: the teacher's class scores (logit KD's +2.7 mAP) never reach its
    # student; the optional loss_kd of GenerativeFeatureDistiller at logit KD's setting on val
    # (T = 1, the logit KD config's weight 1)
    'GKD': [{}, {'model.loss_attention.loss_weight': 10.0},
            {'model.loss_kd': dict(type='LogitKDLoss', temperature=1.0, loss_weight=1.0)}],
    # the second setting changes both weights; the third and fourth separate them. The config's
    # KD term is at T = 4 (logit KD lost on val at T = 4 against T = 1) and joins at epoch 3 of
    # the 5 (stage_epochs' last entry): the fifth setting is the second with logit KD's val
    # temperature (T = 1); the sixth also moves the cascade earlier (features 0 at epoch 0, the
    # other two and the logits at 1), so the KD term acts in 4 of the 5 epochs; the seventh is
    # the second with the annotated labels instead of the teacher-refined pseudo labels
    'staged KD': [{}, {'model.loss_substage.loss_weight': 1.0,
                       'model.loss_kd.loss_weight': 1.0},
                  {'model.loss_substage.loss_weight': 1.0},
                  {'model.loss_kd.loss_weight': 1.0},
                  {'model.loss_substage.loss_weight': 1.0, 'model.loss_kd.loss_weight': 1.0,
                   'model.loss_kd.temperature': 1.0},
                  {'model.loss_substage.loss_weight': 1.0, 'model.loss_kd.loss_weight': 1.0,
                   'model.loss_kd.temperature': 1.0, 'model.stage_epochs': (0, 1, 1, 1)},
                  {'model.loss_substage.loss_weight': 1.0, 'model.loss_kd.loss_weight': 1.0,
                   'model.pseudo_label': None}],
}
METRICS = ('mAP', 'top1', 'top5')
#: The input of one span: ``[C, T, H, W]``.
INPUT_SHAPE = (768, 8, 1, 1)

#: The rows with a privileged teacher: the span's 8 steps followed by 8 steps of context, the
#: span widened by its length on each side (``LoadSpanFeatures(context_steps=8,
#: context='surround')``; chosen on val over the whole video pooled into 8 steps) for the
#: teacher; every student reads the span's 8 steps only (same names as :data:`ROWS`: run them in
#: their own work dir).
PRIVILEGED_ROWS = {row: path.replace(f'{CONFIG_DIR}/', f'{CONFIG_DIR}/privileged_')
                   for row, path in ROWS.items()}
#: Settings of each distiller with the privileged teacher: the ones chosen on val with the
#: span-only teacher first (trained on every seed), then staged KD's config (seed 0, kept if
#: better on val).
PRIVILEGED_SWEEPS: Dict[str, List[dict]] = {
    'logit KD': [SWEEPS['logit KD'][1]],
    'GKD': [SWEEPS['GKD'][2]],
    'staged KD': [SWEEPS['staged KD'][1], {}],
}
#: Distillers in the order the privileged rows are run (staged KD, the goal's open row, first).
PRIVILEGED_ORDER = ('staged KD', 'GKD', 'logit KD')
#: The privileged-context input of one span: ``[C, T + context, H, W]``.
PRIVILEGED_INPUT_SHAPE = (768, 16, 1, 1)


def options_label(options: dict) -> str:
    """``key=value, ...`` of ``options`` without the ``model.`` prefix (``'config'`` if none)."""
    return ', '.join(f'{k.replace("model.", "")}={v}' for k, v in sorted(options.items())) \
        or 'config'


def predict_split(model: nn.Module, dataloader_cfg: dict
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, List[str]]:
    """Class probabilities ``[N, C]``, classes ``[N]``, 0/1 multi-label targets ``[N, C]`` and
    video ids of a split, in dataset order."""
    loader = Runner.build_dataloader(copy.deepcopy(dataloader_cfg))
    scores, labels, targets, videos = [], [], [], []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                scores.append(sample.pred_score.cpu().numpy())
                labels.append(int(sample.gt_label))
                targets.append(np.asarray(sample.multi_label, np.float32))
                videos.append(sample.video_id)
    return np.stack(scores), np.array(labels), np.stack(targets), videos


class CharadesRecognitionKDBenchmark:
    """State and runs of one benchmark folder (see the module docstring).

    Args:
        work_dir: Folder of the runs, the store and ``results.json``.
        seeds: Seeds of the student rows.
        sweep_seed: Seed on which each distiller's settings are compared on val.
        epochs: Epochs of every student run (None: the configs').
        teacher_epochs: Epochs of the teacher (None: its config's).
        device: ``'cpu'`` or ``'cuda'``.
        teacher_seed: Seed of the teacher's training.
        sweeps: Settings tried per distiller (default :data:`SWEEPS`).
        teacher_checkpoint: A trained teacher (a checkpoint of the teacher config's model) to
            use instead of training one.
        resamples: Bootstrap resamples of the test videos (each tested run's metrics on them
            are computed once, when first reported, and stored).
        rows: Row name -> config (default :data:`ROWS`; :data:`PRIVILEGED_ROWS` for the
            privileged teacher).
        order: The distillers in the order they are run per seed (default
            :data:`DISTILLERS`).
        input_shape: The input of one span ``[C, T, H, W]`` for params and FLOPs (default
            :data:`INPUT_SHAPE`); a student reading part of it is counted on what it reads.
    """

    def __init__(self, work_dir: str, seeds: Sequence[int] = (0, 1, 2), sweep_seed: int = 0,
                 epochs: Optional[int] = None, teacher_epochs: Optional[int] = None,
                 device: str = 'cpu', teacher_seed: int = 0,
                 sweeps: Optional[Dict[str, List[dict]]] = None, resamples: int = 1000,
                 teacher_checkpoint: Optional[str] = None,
                 rows: Optional[Dict[str, str]] = None,
                 order: Sequence[str] = DISTILLERS,
                 input_shape: Sequence[int] = INPUT_SHAPE) -> None:
        self.work_dir, self.seeds, self.sweep_seed = work_dir, list(seeds), sweep_seed
        self.rows, self.order, self.input_shape = rows or ROWS, tuple(order), tuple(input_shape)
        self.epochs, self.teacher_epochs = epochs, teacher_epochs
        self.device, self.teacher_seed = device, teacher_seed
        self.sweeps = sweeps or SWEEPS
        self.resamples, self.teacher_checkpoint = resamples, teacher_checkpoint
        self._targets: Optional[tuple] = None
        self.store = ResultStore(osp.join(work_dir, 'results'))
        self.path = osp.join(work_dir, 'results.json')
        self.results: Dict[str, dict] = {}
        self._num_train: Optional[int] = None

    def save(self) -> None:
        dump_json_atomic(self.results, self.path, indent=1)

    def config(self, row: str, seed: int, options: dict) -> Config:
        """``row``'s config for one run: seed, epochs, device, teacher, options."""
        cfg = Config.fromfile(self.rows[row])
        cfg.randomness = dict(seed=seed, deterministic=False)
        cfg.device = self.device
        epochs = self.teacher_epochs if row == TEACHER else self.epochs
        if epochs is not None:
            set_epochs(cfg, epochs)
        if row != TEACHER and row != BASELINE:
            cfg.model.teacher_ckpt = self.teacher()['checkpoint']
            if cfg.model.get('pseudo_label'):
                cfg.model.pseudo_label.num_samples = self.num_train(cfg)
        return merge_cfg_options(cfg, options)

    def num_train(self, cfg: Config) -> int:
        """Training spans (for staged KD's pseudo-label bank)."""
        if self._num_train is None:
            dataset = dict(cfg.train_dataloader.dataset, pipeline=[], lazy_init=False)
            self._num_train = len(DATASETS.build(dataset))
        return self._num_train

    def settings(self, row: str, seed: int, cfg: Config, options: dict) -> dict:
        """Everything that changes the result of ``row``'s run of ``cfg``."""
        inputs = [cfg.train_dataloader.dataset.ann_file]
        inputs += [cfg[f'{s}_dataloader'].dataset.split_file for s in ('train', 'val', 'test')]
        inputs.append(osp.join(cfg.train_dataloader.dataset.data_prefix.features,
                               'feature_shapes.json'))
        inputs.append(cfg.model.get('teacher_ckpt'))
        return run_settings(row, self.rows[row], cfg, seed, self.device, inputs, options=options)

    def run(self, row: str, seed: int, options: Optional[dict] = None, test: bool = False,
            train: bool = True) -> Optional[dict]:
        """Train one run (or resume it) and evaluate its best-on-val checkpoint on val; with
        ``test``, also on test (once: a stored test result is kept). A run stored with the same
        settings is not trained again. Returns the stored result (None if not stored and not
        ``train``)."""
        options = dict(options or {})
        cfg = self.config(row, seed, options)
        settings = self.settings(row, seed, cfg, options)
        result = self.store.get(row, settings)
        if result is None and not train:
            return None
        if result is None:
            result = self.store.put(row, settings, self.train(cfg, row, settings))
        if test and 'test' not in result:
            result = self.store.put(row, settings, dict(result, **self.test(cfg, result)))
        return dict(result, options=options, key=self.store.key(row, settings))

    def train(self, cfg: Config, row: str, settings: dict) -> dict:
        """Train ``cfg`` in ``runs/<row>/<fingerprint>`` (resuming an interrupted run); the
        best-on-val checkpoint (a distiller's stripped to its student) and its val metrics."""
        run = train_resumable(cfg, osp.join(self.work_dir, 'runs', self.store.key(row, settings)))
        best = student_ckpt = run['checkpoint']
        if 'student' in cfg.model:
            student_ckpt = osp.join(cfg.work_dir, 'student.pth')
            strip_distiller_checkpoint(best, student_ckpt)
        scores, labels, targets, _ = predict_split(self.model(cfg, student_ckpt),
                                                   cfg.val_dataloader)
        return dict(run, student_checkpoint=student_ckpt,
                    val=multi_label_accuracy(scores, labels, targets))

    def model(self, cfg: Config, checkpoint: str) -> nn.Module:
        """The recognizer of ``cfg`` (a distiller's student) with ``checkpoint``'s weights."""
        model_cfg = student_config(cfg).model if 'student' in cfg.model else cfg.model
        model = MODELS.build(model_cfg)
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        return model.to(self.device).eval()

    def test(self, cfg: Config, result: dict) -> dict:
        """Test metrics of a trained run; its test scores ``[N, C]`` go to ``test_scores.npy``
        beside its checkpoint."""
        model = self.model(cfg, result['student_checkpoint'])
        scores, labels, targets, _ = predict_split(model, cfg.test_dataloader)
        path = osp.join(osp.dirname(result['checkpoint']), 'test_scores.npy')
        save_npy_atomic(scores.astype(np.float32), path)
        return dict(test=multi_label_accuracy(scores, labels, targets), test_scores=path)

    def draw_values(self, run: dict) -> np.ndarray:
        """``[M, B]``: :func:`metrics_on_draws` of a tested run on the benchmark's resamples of
        the test videos (stored, keyed by the digest of its test scores)."""
        settings = dict(scores=file_digest(run['test_scores']), resamples=self.resamples)
        cached = self.store.get('bootstrap draws', settings)
        if cached is None:
            targets = self.test_targets()
            draws = cluster_draws(targets[2], self.resamples, seed=0)
            values = metrics_on_draws(np.load(run['test_scores']).astype(np.float64), targets,
                                      draws)
            cached = self.store.put('bootstrap draws', settings, dict(values=values.tolist()))
        return np.array(cached['values'])

    def teacher(self, train: bool = True) -> Optional[dict]:
        """The teacher's run (trained and tested once), or the given
        :attr:`teacher_checkpoint` (evaluated on val and test once)."""
        if TEACHER not in self.results:
            if self.teacher_checkpoint:
                result = self.given_teacher()
            else:
                result = self.run(TEACHER, self.teacher_seed, test=True, train=train)
            if result is None:
                return None
            self.results[TEACHER] = result
            self.save()
        return self.results[TEACHER]

    def teacher_on_val(self) -> Optional[dict]:
        """The teacher's run trained (or stored) and evaluated on val only (to compare teachers
        on val before any is tested); None with a given :attr:`teacher_checkpoint`."""
        if self.teacher_checkpoint:
            return None
        return self.run(TEACHER, self.teacher_seed, test=False)

    def given_teacher(self) -> dict:
        """Val and test metrics of :attr:`teacher_checkpoint` (a checkpoint of the teacher
        config's model), stored keyed by its digest and the config."""
        cfg = Config.fromfile(self.rows[TEACHER])
        path = self.teacher_checkpoint
        settings = dict(checkpoint=file_digest(path), config_text=config_text(cfg),
                        device=self.device)
        result = self.store.get('given teacher', settings)
        if result is None:
            scores, labels, targets, _ = predict_split(self.model(cfg, path), cfg.val_dataloader)
            result = dict(checkpoint=path, student_checkpoint=path, minutes=None,
                          val=multi_label_accuracy(scores, labels, targets))
            result.update(self.test(cfg, result))
            self.store.put('given teacher', settings, result)
        return dict(result, options={})

    def chosen(self, row: str, train: bool = True) -> dict:
        """The setting of ``row`` with the best val mAP on the sweep seed among those of
        :attr:`sweeps` that are trained (all of them with ``train``; the config's first)."""
        runs = [self.run(row, self.sweep_seed, options, train=train and i > 0)
                for i, options in enumerate(self.sweeps[row])]
        runs = [r for r in runs if r is not None]
        if not runs:
            return {}
        self.results[f'{row}/sweep'] = dict(runs=[dict(options=r['options'], val=r['val'])
                                                  for r in runs])
        self.save()
        return max(runs, key=lambda r: r['val']['mAP'])['options']

    def run_seed(self, row: str, seed: int, options: dict, train: bool = True) -> None:
        """One seed of ``row`` with ``options``, tested, into :attr:`results`."""
        result = self.run(row, seed, options, test=True, train=train)
        if result is not None:
            self.results[f'{row}/seed{seed}'] = result
            self.save()

    def run_all(self, train: bool = True) -> None:
        """Teacher; then seed by seed the student alone and every distiller with its config's
        setting (so partial results are paired); then each distiller's other settings on the
        sweep seed, and a setting better on val than the config's on every seed
        (``train=False``: collect what is stored, training nothing)."""
        if self.teacher(train) is None:
            return
        self.complexity()
        for seed in self.seeds:
            self.run_seed(BASELINE, seed, {}, train)
            for row in self.order:
                self.run_seed(row, seed, self.sweeps[row][0], train)
        for row in self.order:
            options = self.chosen(row, train)
            if options != self.sweeps[row][0]:
                for seed in self.seeds:   # the row is the chosen setting's runs only
                    self.results.pop(f'{row}/seed{seed}', None)
                    self.run_seed(row, seed, options, train)

    def complexity(self) -> None:
        """Params and FLOPs of teacher and student (one span)."""
        teacher = Config.fromfile(self.rows[TEACHER]).model
        student = Config.fromfile(self.rows[BASELINE]).model
        shape = self.input_shape
        settings = dict(teacher=teacher.to_dict(), student=student.to_dict(), input=list(shape))
        result = self.store.get('complexity', settings)
        if result is None:
            result = self.store.put('complexity', settings, dict(
                teacher=complexity(teacher, shape), student=complexity(student, shape),
                input=list(shape)))
        self.results['complexity'] = result
        self.save()

    def test_targets(self) -> Tuple[np.ndarray, np.ndarray, List[str]]:
        """Classes ``[N]``, multi-label targets ``[N, C]`` and video ids of the test spans."""
        if self._targets is None:
            cfg = Config.fromfile(self.rows[BASELINE])
            dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[]))
            infos = [dataset.get_data_info(i) for i in range(len(dataset))]
            self._targets = (np.array([i['label'] for i in infos]),
                             np.stack([i['multi_label'] for i in infos]),
                             [i['video_id'] for i in infos])
        return self._targets


def row_runs(results: Dict[str, dict], row: str, seeds: Sequence[int]) -> Dict[int, dict]:
    """``{seed: run}`` of ``row``'s tested runs."""
    runs = {s: results.get(f'{row}/seed{s}') for s in seeds}
    return {s: r for s, r in runs.items() if r and 'test' in r}


def metrics_on_draws(scores: np.ndarray, targets: tuple, draws: Sequence[np.ndarray]
                     ) -> np.ndarray:
    """``[M, B]``: each of :data:`METRICS` (points) of test scores ``[N, C]`` on each resample
    of test spans (``targets``: classes ``[N]``, multi-label targets ``[N, C]``, video ids)."""
    labels, multi_labels = targets[0], targets[1]
    per_draw = [multi_label_accuracy(scores[d], labels[d], multi_labels[d]) for d in draws]
    return np.array([[values[m] for values in per_draw] for m in METRICS])


def bootstrap_rows(results: Dict[str, dict], seeds: Sequence[int],
                   values_of: Callable[[dict], np.ndarray], seed: int = 0
                   ) -> Dict[str, Dict[str, tuple]]:
    """Per distiller row and metric: the two-level 95% CI (points) of its difference to the
    student alone over the seeds both finished, from each run's metrics on the same resamples
    of test videos (``values_of(run)``: ``[M, B]``, :func:`metrics_on_draws`), resampling seeds
    too (:func:`~mmemtm.benchmarks.statistics.two_level_from_draws`); and the per-seed mAP
    differences."""
    base = row_runs(results, BASELINE, seeds)
    out = {}
    for row in DISTILLERS:
        runs = row_runs(results, row, seeds)
        paired = [s for s in runs if s in base]
        if not paired:
            continue
        row_values = np.stack([values_of(runs[s]) for s in paired], 1)      # [M, S, B]
        base_values = np.stack([values_of(base[s]) for s in paired], 1)
        out[row] = {}
        for i, metric in enumerate(METRICS):
            point = float(np.mean([runs[s]['test'][metric] - base[s]['test'][metric]
                                   for s in paired]))
            out[row][metric] = two_level_from_draws(row_values[i], base_values[i], point, seed)
        out[row]['seed_deltas'] = [runs[s]['test']['mAP'] - base[s]['test']['mAP']
                                   for s in paired]
    return out


def summary_rows(results: Dict[str, dict], seeds: Sequence[int],
                 cis: Dict[str, Dict[str, tuple]]) -> List[dict]:
    """Table rows: mean/sd over seeds of every metric and of val mAP, the setting, the CIs and
    the share of the teacher-student mAP gap closed."""
    rows = []
    if TEACHER in results:
        t = results[TEACHER]
        rows.append(dict(row=TEACHER, seeds=1, options={}, minutes=t['minutes'],
                         val_mAP=(t['val']['mAP'], 0.0),
                         **{m: (t['test'][m], 0.0) for m in METRICS}))
    for row in (BASELINE, ) + DISTILLERS:
        runs = list(row_runs(results, row, seeds).values())
        if not runs:
            continue
        entry = dict(row=row, seeds=len(runs), options=runs[0]['options'],
                     minutes=float(np.mean([r['minutes'] for r in runs])))
        for name, values in [('val_mAP', [r['val']['mAP'] for r in runs])] + [
                (m, [r['test'][m] for r in runs]) for m in METRICS]:
            entry[name] = (float(np.mean(values)),
                           float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
        if row in cis:
            entry.update(ci=cis[row]['mAP'], ci_top1=cis[row]['top1'],
                         ci_top5=cis[row]['top5'], seed_deltas=cis[row]['seed_deltas'])
        rows.append(entry)
    by_row = {r['row']: r for r in rows}
    if TEACHER in by_row and BASELINE in by_row:
        gap = by_row[TEACHER]['mAP'][0] - by_row[BASELINE]['mAP'][0]
        for r in rows:
            if r['row'] in DISTILLERS and gap:
                r['gap_closed'] = (r['mAP'][0] - by_row[BASELINE]['mAP'][0]) / gap
    return rows


def _ci(ci: Optional[tuple]) -> str:
    return f'{ci[0]:+.1f} [{ci[1]:+.1f}, {ci[2]:+.1f}]' if ci else '—'


def markdown_table(rows: List[dict], complexity_info: Optional[dict] = None) -> str:
    """The summary as a markdown table (test metrics; val mAP of the kept checkpoints)."""
    lines = ['| row | setting (chosen on val) | seeds | val mAP | mAP | top-1 | top-5 | '
             'Δ mAP vs student alone [95% CI] | per-seed Δ mAP | Δ top-1 [95% CI] | '
             'gap closed | params | MFLOPs | min/run |',
             '| --- ' * 14 + '|']
    for r in rows:
        cells = [f'{r[m][0]:.1f} ± {r[m][1]:.1f}' if r['seeds'] > 1 else f'{r[m][0]:.1f}'
                 for m in ('val_mAP',) + METRICS]
        per_seed = ' / '.join(f'{d:+.1f}' for d in r.get('seed_deltas', [])) or '—'
        gap = f'{100 * r["gap_closed"]:.0f} %' if 'gap_closed' in r else '—'
        cost = (complexity_info or {}).get('teacher' if r['row'] == TEACHER else 'student')
        size = [f'{cost["params"] / 1e6:.2f} M', f'{cost["flops"] / 1e6:.1f}'] if cost \
            else ['—', '—']
        setting = '—' if r['row'] in (TEACHER, BASELINE) else options_label(r['options'])
        lines.append('| ' + ' | '.join(
            [r['row'], setting, str(r['seeds'])] + cells
            + [_ci(r.get('ci')), per_seed, _ci(r.get('ci_top1')), gap] + size
            + [f'{r["minutes"]:.1f}' if r['minutes'] is not None else '—']) + ' |')
    return '\n'.join(lines)


def sweep_table(results: Dict[str, dict]) -> str:
    """Val mAP / top-1 of every setting tried per distiller on the sweep seed."""
    lines = ['| row | setting | val mAP | val top-1 |', '| --- | --- | --- | --- |']
    for row in DISTILLERS:
        for run in results.get(f'{row}/sweep', {}).get('runs', []):
            lines.append(f'| {row} | {options_label(run["options"])} | '
                         f'{run["val"]["mAP"]:.1f} | {run["val"]["top1"]:.1f} |')
    return '\n'.join(lines)
