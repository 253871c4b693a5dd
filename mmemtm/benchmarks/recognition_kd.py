"""The recognition distillation benchmark on the synthetic motion set: the I3D teacher, the
top-heavy student alone, and the student distilled by logit KD, GKD and staged KD.

Protocol (what ``tools/analysis/benchmark_recognition_kd.py`` runs):

1. the synthetic set is generated once (``data/``);
2. the teacher is trained once (``teacher_seed``); its best-on-val checkpoint is every
   distiller's teacher;
3. every student row for every seed: a seed gives every row the same student initialisation
   (:class:`~mmemtm.models.distillers.recognition.RecognizerDistiller` initialises its student
   from the random state a student built alone would use) and the same data order, so rows are
   paired; the checkpoint with the best val top-1 is kept (selection on val only), a
   distiller's is stripped to its student (``tools/strip_distiller_checkpoint.py``'s code), and
   the student alone is tested once on the test clips, keeping every clip's scores;
4. top-1/top-5 mean and sd over seeds, and paired two-level bootstrap CIs (seeds, then test
   clips) of each row's top-1 against the student alone (and of GKD against staged KD);
5. parameters and FLOPs of teacher and student (mmengine's ``get_model_complexity_info``).

Every run is stored with everything that changes it (:class:`RecognitionKDBenchmark`), so an
interrupted benchmark resumes where it stopped (finished runs are skipped, an interrupted run
resumes from its last checkpoint) and a variant (``cfg_options``) never reuses another setting's
run; ``results.json`` (written atomically after every run) holds the runs of the benchmark's
settings with the options that made each.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmaction.evaluation import top_k_accuracy
from mmaction.registry import MODELS
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmemtm.apis.recognition_kd import strip_distiller_checkpoint, student_config
from mmemtm.datasets.synthetic_motion import SyntheticMotionConfig, generate_synthetic_motion
from mmemtm.engine import set_epochs
from mmemtm.utils import atomic_write, dump_json_atomic, read_json, save_npy_atomic
from mmemtm.utils.config_options import merge_cfg_options
from mmemtm.visualization import accuracy_bars, save_figure
from .experiments import train_resumable
from .statistics import two_level_bootstrap
from .store import ResultStore, run_settings

CONFIG_DIR = 'configs/recognition_kd'
TEACHER = 'teacher: I3D'
BASELINE = 'student alone'
#: Row name -> config (the teacher first).
ROWS = {
    TEACHER: f'{CONFIG_DIR}/i3d_teacher_synthetic_motion.py',
    BASELINE: f'{CONFIG_DIR}/top_heavy_i3d_student_synthetic_motion.py',
    'logit KD': f'{CONFIG_DIR}/logit_kd_synthetic_motion.py',
    'GKD': f'{CONFIG_DIR}/gkd_synthetic_motion.py',
    'staged KD': f'{CONFIG_DIR}/staged_kd_synthetic_motion.py',
}
STUDENT_ROWS = tuple(r for r in ROWS if r != TEACHER)
#: The two published methods compared head to head.
HEAD_TO_HEAD = ('GKD', 'staged KD')


class ClassifierForward(nn.Module):
    """A recognizer as a plain ``clips [N, 1, C, T, H, W] -> logits`` module (for FLOPs)."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.recognizer.extract_feat(inputs, stage='head')[0]


def complexity(model_cfg: dict, input_shape: Sequence[int]) -> Dict[str, float]:
    """Parameters and FLOPs (one clip ``input_shape = (C, T, H, W)``) of a recognizer, head
    included."""
    model = MODELS.build(copy.deepcopy(model_cfg)).eval()
    head = model.cls_head
    cvae = getattr(head, 'cvae', None)
    head.cvae = None  # a teacher's CVAE is a training-only part
    info = get_model_complexity_info(ClassifierForward(model), inputs=(
        torch.zeros(1, 1, *input_shape),), show_table=False, show_arch=False)
    head.cvae = cvae
    return dict(params=float(info['params']), flops=float(info['flops']))


class RecognitionKDBenchmark:
    """State and runs of one benchmark folder.

    Every run is stored in the work dir's :class:`~mmemtm.benchmarks.store.ResultStore` with
    everything that changes it (resolved config, ``cfg_options``, epochs, seed, device, data
    settings, digests of the annotation files and of the teacher checkpoint), and trains in
    ``runs/<row>/<fingerprint>``: a variant made with other ``cfg_options`` never gets another
    setting's result or checkpoint. ``results.json`` holds the runs of this benchmark's
    settings, each with its ``options`` and store ``key``.

    Args:
        work_dir: Folder of the data, the runs, the store and ``results.json``.
        seeds: Seeds of the student rows.
        epochs: Training epochs of every student run (None: the configs' 12).
        teacher_epochs: Training epochs of the teacher (None: its config's 40).
        data: Settings of the synthetic set.
        device: ``'cpu'`` or ``'cuda'``.
        teacher_seed: Seed of the teacher's training.
        rows: Student rows to run (default: all of :data:`STUDENT_ROWS`).
        cfg_options: Config overrides of every distiller run (``{'key.sub': value}``; not of
            the teacher and the student alone, so a variant of a row stays paired with them).
    """

    def __init__(self, work_dir: str, seeds: Sequence[int] = (0, 1, 2),
                 epochs: Optional[int] = None,
                 data: SyntheticMotionConfig = SyntheticMotionConfig(), device: str = 'cpu',
                 teacher_seed: int = 0, teacher_epochs: Optional[int] = None,
                 rows: Optional[Sequence[str]] = None,
                 cfg_options: Optional[dict] = None) -> None:
        unknown = set(rows or ()) - set(STUDENT_ROWS)
        if unknown:
            raise ValueError(f'unknown rows {sorted(unknown)}; rows are {STUDENT_ROWS}')
        self.work_dir, self.seeds, self.epochs = work_dir, list(seeds), epochs
        self.data, self.device, self.teacher_seed = data, device, teacher_seed
        self.teacher_epochs = teacher_epochs
        self.rows = [r for r in STUDENT_ROWS if rows is None or r in rows]
        self.cfg_options = dict(cfg_options or {})
        self.data_dir = osp.join(work_dir, 'data')
        self.store = ResultStore(osp.join(work_dir, 'results'))
        self.path = osp.join(work_dir, 'results.json')
        machines = read_json(self.path).get('machine', []) if osp.isfile(self.path) else []
        self.results: Dict[str, object] = dict(machine=machines)

    def save(self) -> None:
        dump_json_atomic(self.results, self.path, indent=1)

    def prepare_data(self) -> None:
        """Generate the synthetic set (kept when it exists with the same settings)."""
        generate_synthetic_motion(self.data_dir, self.data)
        self.results['data'] = self.data.to_dict()
        self.save()

    def options(self, row: str) -> dict:
        """The ``cfg_options`` of ``row``'s runs (none for the teacher and the student alone)."""
        return {} if row in (TEACHER, BASELINE) else dict(self.cfg_options)

    def config(self, row: str, seed: int) -> Config:
        """``row``'s config for one run: data, seed, epochs, device, teacher, options (the work
        dir is set by :meth:`run`, from the run's key)."""
        cfg = Config.fromfile(ROWS[row])
        cfg.randomness = dict(seed=seed, deterministic=False)
        cfg.device = self.device
        for split in ('train', 'val', 'test'):
            dataset = cfg[f'{split}_dataloader'].dataset
            dataset.ann_file = osp.join(self.data_dir, f'{split}.txt')
            dataset.data_prefix = dict(video=self.data_dir)
        epochs = self.teacher_epochs if row == TEACHER else self.epochs
        if epochs is not None:
            set_epochs(cfg, epochs)
        if cfg.model.type != 'Recognizer3D':
            cfg.model.teacher_ckpt = self.results[TEACHER]['checkpoint']
            if cfg.model.get('pseudo_label'):
                cfg.model.pseudo_label.num_samples = len(self.train_labels())
        merge_cfg_options(cfg, self.options(row))
        return cfg

    def settings(self, row: str, seed: int, cfg: Config) -> dict:
        """Everything that changes the result of ``row``'s run of ``cfg``
        (:func:`~mmemtm.benchmarks.store.run_settings`, with the options and data settings)."""
        inputs = [cfg[f'{s}_dataloader'].dataset.ann_file for s in ('train', 'val', 'test')]
        inputs.append(cfg.model.get('teacher_ckpt'))
        return run_settings(row, ROWS[row], cfg, seed, self.device, inputs,
                            options=self.options(row), data=self.data.to_dict())

    def train_labels(self) -> List[str]:
        with open(osp.join(self.data_dir, 'train.txt'), encoding='utf-8') as f:
            return [line for line in f if line.strip()]

    def run(self, row: str, seed: int, train: bool = True) -> Optional[dict]:
        """Train one row and seed (or resume it), test its best-on-val checkpoint; a run stored
        with the same settings is not run again. It goes into :attr:`results` (``row`` for the
        teacher, ``<row>/seed<seed>`` for the others) with its ``options`` and ``key``.

        Args:
            row: A key of :data:`ROWS`.
            seed: The run's seed.
            train: Whether to train a run that is not stored (False: return None).
        """
        cfg = self.config(row, seed)
        settings = self.settings(row, seed, cfg)
        result = self.store.get(row, settings)
        if result is None and not train:
            return None
        if result is None:
            result = self.store.put(row, settings, self.train_and_evaluate(cfg, row, settings))
        key = row if row == TEACHER else f'{row}/seed{seed}'
        self.results[key] = dict(result, options=settings['options'],
                                 key=self.store.key(row, settings))
        self.save()
        return result

    def collect(self) -> None:
        """Put every stored run of this benchmark's settings (teacher, every student row and
        seed) into :attr:`results`, training nothing: the student alone pairs with a variant
        run with ``rows`` and ``cfg_options``. Also the data settings and :meth:`complexity`."""
        self.results['data'] = self.data.to_dict()
        self.complexity()
        if not osp.isdir(self.data_dir) or self.run(TEACHER, self.teacher_seed, False) is None:
            return
        for seed in self.seeds:
            for row in STUDENT_ROWS:
                self.run(row, seed, train=False)

    def train_and_evaluate(self, cfg: Config, row: str, settings: dict) -> dict:
        """Train ``cfg`` in ``runs/<row>/<fingerprint>`` (resuming an interrupted run), then
        :meth:`evaluate` its best-on-val checkpoint."""
        run = train_resumable(cfg, osp.join(self.work_dir, 'runs', self.store.key(row, settings)))
        return dict(self.evaluate(cfg, run['checkpoint']), **run)

    def evaluate(self, cfg: Config, checkpoint: str) -> dict:
        """Val and test top-1/top-5 of the student (a distiller's checkpoint is stripped first);
        the test scores ``[clips, classes]`` go to ``test_scores.npy`` in the run folder."""
        model_cfg = cfg.model
        if 'student' in cfg.model:
            stripped = osp.join(cfg.work_dir, 'student.pth')
            strip_distiller_checkpoint(checkpoint, stripped)
            cfg, checkpoint = student_config(cfg), stripped
            model_cfg = cfg.model
        model = MODELS.build(model_cfg)
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        model.to(self.device).eval()
        out = {}
        for split in ('val', 'test'):
            scores, labels = predict_scores(model, cfg[f'{split}_dataloader'])
            top1, top5 = top_k_accuracy(scores, labels, (1, 5))
            out[split] = dict(top1=100 * float(top1), top5=100 * float(top5))
            if split == 'test':
                path = osp.join(cfg.work_dir, 'test_scores.npy')
                save_npy_atomic(scores.astype(np.float32), path)
                out['test_scores'] = path
                out['test_labels'] = labels.tolist()
        return out

    def complexity(self) -> None:
        """Params and FLOPs of teacher and student (stored, keyed by both models' configs and
        the input shape)."""
        shape = [3, self.data.num_frames, self.data.size, self.data.size]
        teacher = Config.fromfile(ROWS[TEACHER]).model
        student = Config.fromfile(ROWS[BASELINE]).model
        settings = dict(teacher=teacher.to_dict(), student=student.to_dict(), input=shape)
        result = self.store.get('complexity', settings)
        if result is None:
            result = self.store.put('complexity', settings, dict(
                teacher=complexity(teacher, shape), student=complexity(student, shape),
                input=shape))
        self.results['complexity'] = result
        self.save()

    def run_all(self) -> None:
        """Data, teacher, every row and seed (seed by seed, so partial results are paired)."""
        self.prepare_data()
        self.complexity()
        self.run(TEACHER, self.teacher_seed)
        for seed in self.seeds:
            for row in self.rows:
                self.run(row, seed)


def predict_scores(model: nn.Module, dataloader_cfg: dict):
    """Class probabilities ``[N, classes]`` and labels ``[N]`` of a split, in dataset order."""
    loader = Runner.build_dataloader(copy.deepcopy(dataloader_cfg))
    scores, labels = [], []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                scores.append(sample.pred_score.cpu().numpy())
                labels.append(int(sample.gt_label))
    return np.stack(scores), np.array(labels)


def hits(results: Dict[str, dict], row: str, seeds: Sequence[int], k: int = 1) -> np.ndarray:
    """``[S, Q]`` 0/1: the true class among the top ``k`` test scores of ``row``'s runs."""
    out = []
    for seed in seeds:
        run = results[f'{row}/seed{seed}']
        scores = np.load(run['test_scores'])
        labels = np.array(run['test_labels'])
        top = np.argsort(-scores, axis=1)[:, :k]
        out.append((top == labels[:, None]).any(1))
    return np.array(out, np.float64)


def summary_rows(results: Dict[str, dict], seeds: Sequence[int]) -> List[dict]:
    """Table rows: mean/sd over seeds of top-1/top-5, paired CIs against the student alone, and
    the ``options`` the row ran with."""
    rows = []
    if TEACHER in results:
        t = results[TEACHER]['test']
        rows.append(dict(row=TEACHER, seeds=1, top1=(t['top1'], 0.0), top5=(t['top5'], 0.0),
                         minutes=results[TEACHER]['minutes']))
    base_seeds = [s for s in seeds if f'{BASELINE}/seed{s}' in results]
    for row in STUDENT_ROWS:
        done = [s for s in seeds if f'{row}/seed{s}' in results]
        if not done:
            continue
        runs = [results[f'{row}/seed{s}'] for s in done]
        entry = dict(row=row, options=runs[0].get('options') or {}, seeds=len(done),
                     minutes=float(np.mean([r['minutes'] for r in runs])))
        for metric in ('top1', 'top5'):
            values = [r['test'][metric] for r in runs]
            entry[metric] = (float(np.mean(values)),
                             float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
        paired = [s for s in done if s in base_seeds]
        if row != BASELINE and paired:
            entry['ci'] = two_level_bootstrap(hits(results, row, paired),
                                              hits(results, BASELINE, paired))
            entry['ci_top5'] = two_level_bootstrap(hits(results, row, paired, 5),
                                                   hits(results, BASELINE, paired, 5))
            entry['paired_seeds'] = len(paired)
            entry['seed_deltas'] = [results[f'{row}/seed{s}']['test']['top1']
                                    - results[f'{BASELINE}/seed{s}']['test']['top1']
                                    for s in paired]
        rows.append(entry)
    return rows


def head_to_head(results: Dict[str, dict], seeds: Sequence[int]) -> Optional[tuple]:
    """Paired two-level CI (seeds, then test clips) of GKD's top-1 minus staged KD's (points),
    over the seeds both finished."""
    a, b = HEAD_TO_HEAD
    done = [s for s in seeds if f'{a}/seed{s}' in results and f'{b}/seed{s}' in results]
    if not done:
        return None
    return two_level_bootstrap(hits(results, a, done), hits(results, b, done)) + (len(done), )


def row_label(row: dict) -> str:
    """A summary row's name, with the options it ran with (``GKD (key=value)``)."""
    options = ', '.join(f'{k}={v}' for k, v in sorted((row.get('options') or {}).items()))
    return f'{row["row"]} ({options})' if options else row['row']


def markdown_table(rows: List[dict], complexity_info: Optional[dict] = None) -> str:
    """The summary as a markdown table."""
    lines = ['| row | seeds | top-1 (%) | top-5 (%) | Δ top-1 vs student alone [95% CI] | '
             'Δ top-1 per seed | Δ top-5 [95% CI] | params | GFLOPs | min/run |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in rows:
        cells = [f'{r[m][0]:.1f} ± {r[m][1]:.1f}' if r['seeds'] > 1 else f'{r[m][0]:.1f}'
                 for m in ('top1', 'top5')]
        deltas = [f'{ci[0]:+.1f} [{ci[1]:+.1f}, {ci[2]:+.1f}]' if ci else '—'
                  for ci in (r.get('ci'), r.get('ci_top5'))]
        per_seed = ', '.join(f'{d:+.1f}' for d in r.get('seed_deltas', [])) or '—'
        deltas.insert(1, per_seed)
        part = 'teacher' if r['row'] == TEACHER else 'student'
        cost = (complexity_info or {}).get(part)
        size = [f'{cost["params"] / 1e6:.2f} M', f'{cost["flops"] / 1e9:.3f}'] if cost \
            else ['—', '—']
        lines.append(f'| {row_label(r)} | {r["seeds"]} | ' + ' | '.join(cells + deltas + size)
                     + f' | {r["minutes"]:.1f} |')
    return '\n'.join(lines)


def training_time_lines(runs: Sequence[dict]) -> Tuple[str, Optional[str]]:
    """A report's lines on ``runs`` (stored results with ``minutes`` and ``load_average``): their
    summed training time, and the mean and max of the 1-minute load averages taken at their starts
    and ends (None when no run recorded one)."""
    loads = [load for run in runs for load in run.get('load_average', [])]
    time = (f'training time: {sum(run["minutes"] for run in runs):.0f} minutes in all '
            f'({len(runs)} runs)')
    if not loads:
        return time, None
    return time, (f'1-minute load average at the start and end of the runs: mean '
                  f'{sum(loads) / len(loads):.1f}, max {max(loads):.1f}')


def write_report(work_dir: str, lines: Sequence[Optional[str]], rows: List[dict], metric: str,
                 title: str, figure: str) -> str:
    """``summary.md`` in ``work_dir`` (``lines`` joined, None lines left out, written atomically)
    and, when there are rows, ``figure``: the rows' ``metric`` as bars. Returns the text."""
    text = '\n'.join(line for line in lines if line is not None)
    with atomic_write(osp.join(work_dir, 'summary.md')) as f:
        f.write(text + '\n')
    if rows:
        save_figure(accuracy_bars(rows, metric, title), osp.join(work_dir, figure))
    return text
