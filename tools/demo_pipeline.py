"""The main job on the bundled data (``make demo``).

1. Plant synthetic features for the bundled TACoS demo subset (real annotations and GloVe).
2. Train the three heterogeneous teachers (span: SeqPAN, 2-D map: 2D-TAN, proposals: SCDM), test
   them, and dump their unified start/end curves on the train and test splits.
3. Train the trivial baseline, EMTM's student alone, and EMTM distilled from the three teachers.
4. Print one table: R1@0.3/0.5/0.7 and mIoU on the test split, and the parameters each model
   runs at inference (trainable; EMTM: its student only); the teachers' curves are also decoded
   as predictions (their plain average and EMTM's KAU mixture).

All numbers come from PLANTED SYNTHETIC features: they compare models on identical data and are not
TACoS results. The runs are made reproducible across machines: a fixed number of threads (float
reductions split over threads add up in another order), deterministic algorithms, fixed seeds.
The table is followed by the real-feature benchmark's table (docs/real_benchmark.md), the numbers
that say whether distillation pays.
"""
import argparse
import os.path as osp
import time
from typing import Dict, List, NamedTuple, Optional

import mmemtm  # noqa: F401
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmemtm.apis import dump_teacher_curves
from mmemtm.apis.teacher_ensembles import evaluate_teacher_curves
from mmemtm.benchmarks.experiments import set_teacher_curves, teacher_curve_files, train_and_test
from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.engine import set_epochs
from mmemtm.text import load_word_vocabulary

DEMO_ANN = 'demo/data/tacos_subset'
REAL_TABLE = 'docs/real_benchmark.md'
PLANTED = 'data/planted/tacos_subset'


class Stage(NamedTuple):
    """One model of the demo: its table row, config, curve file name if it is a teacher, and
    epochs (None: the config's)."""
    name: str
    config: str
    curves: Optional[str] = None
    epochs: Optional[int] = None


TEACHERS = [
    Stage('SeqPAN (span teacher)', 'configs/teachers/seqpan_tacos_demo.py', 'seqpan'),
    Stage('2D-TAN (2-D map teacher)', 'configs/teachers/tan2d_tacos_demo.py', 'tan2d'),
    Stage('SCDM (proposal teacher)', 'configs/teachers/scdm_tacos_demo.py', 'scdm'),
]
STUDENTS = [
    Stage('trivial baseline (relative-span prior)', 'configs/baselines/span_prior_tacos_demo.py',
          epochs=2),
    Stage('EMTM student alone (no distillation)',
          'configs/ablations/student_only_tacos_demo.py'),
    Stage('EMTM (student distilled from 3 teachers)', 'configs/emtm_tacos_demo.py'),
]


def plant_features(out_dir: str, seed: int) -> None:
    """Generate the planted features of the demo subset unless they exist."""
    if osp.isfile(osp.join(out_dir, 'feature_shapes.json')):
        return
    queries = []
    for split in ('train', 'val', 'test'):
        queries += read_queries(osp.join(DEMO_ANN, f'{split}.json'))[0]
    generator = PlantedFeatureGenerator(load_word_vocabulary(osp.join(DEMO_ANN, 'glove')),
                                        seed=seed)
    generator.generate(queries, out_dir)


def stage_config(stage: Stage, work_root: str, planted: str, curves: List[str]) -> Config:
    """The stage's config pointed at the planted features and at this run's teacher curves."""
    cfg = Config.fromfile(stage.config)
    cfg.work_dir = osp.join(work_root, osp.splitext(osp.basename(stage.config))[0])
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_prefix.features = planted
    if teacher_curve_files(cfg) is not None:
        set_teacher_curves(cfg, curves)
    return cfg


def run_stage(stage: Stage, cfg: Config, curves_dir: str) -> Dict[str, object]:
    """Train, test the best checkpoint (by validation R1@0.7) and, for a teacher, dump its
    curves of the train split (what EMTM distils) and of the test split (to evaluate the teacher
    ensembles); returns the test metrics, parameters, minutes and the runner."""
    if stage.epochs:
        set_epochs(cfg, stage.epochs)
    result = train_and_test(cfg)
    if stage.curves:
        for split in ('train', 'test'):
            dump_teacher_curves(result['runner'].model, cfg,
                                osp.join(curves_dir, f'{stage.curves}_{split}.npz'), split,
                                name=stage.curves, num_workers=0)
    return result


def ensemble_rows(emtm: Dict[str, object], curves_dir: str) -> List[tuple]:
    """Test metrics of decoding the teachers' curves: the plain average and the KAU mixture."""
    runner = emtm['runner']
    files = [osp.join(curves_dir, f'{t.curves}_test.npz') for t in TEACHERS]
    metrics = evaluate_teacher_curves(runner.model, runner.cfg, files,
                                      [t.curves for t in TEACHERS])
    rows = []
    for row in ('plain average of teachers', 'KAU mixture'):
        metrics[row].update(params=0, minutes=0.0)
        rows.append((f'{row} (decoded curves)', metrics[row]))
    return rows


def format_table(rows: List[tuple]) -> str:
    header = f'{"model":<44} {"R1@0.3":>7} {"R1@0.5":>7} {"R1@0.7":>7} {"mIoU":>7} ' \
             f'{"params":>10} {"min":>5}'
    lines = [header, '-' * len(header)]
    for name, m in rows:
        params = f'{m["params"]:10,d}' if m['params'] else f'{"-":>10}'
        lines.append(f'{name:<44} {m["R1@0.3"]:7.2f} {m["R1@0.5"]:7.2f} {m["R1@0.7"]:7.2f} '
                     f'{m["mIoU"]:7.2f} {params} {m["minutes"]:5.1f}')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description='Run the mmemtm demo on the bundled data')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--planted', default=PLANTED, help='planted feature folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the planted features')
    parser.add_argument('--threads', type=int, default=1,
                        help='intra-op threads (fixed, so that results do not depend on the '
                        "machine's core count)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    start = time.time()
    plant_features(args.planted, args.seed)
    curves_dir = osp.join(args.work_dir, 'curves')
    curves = [osp.join(curves_dir, f'{t.curves}_train.npz') for t in TEACHERS]
    rows = []
    for stage in TEACHERS + STUDENTS:
        cfg = stage_config(stage, args.work_dir, args.planted, curves)
        rows.append((stage.name, run_stage(stage, cfg, curves_dir)))
    rows[len(TEACHERS):len(TEACHERS)] = ensemble_rows(rows[-1][1], curves_dir)
    MMLogger.get_current_instance().info(f'demo finished in {(time.time() - start) / 60:.1f} min')
    print('\nTest split of the TACoS demo subset (309 queries), PLANTED SYNTHETIC features '
          '(not TACoS results);\nparams: trainable parameters run at inference.\n'
          + format_table(rows))
    if osp.isfile(REAL_TABLE):
        with open(REAL_TABLE, encoding='utf-8') as f:
            print('\nBeside it, REAL features (the benchmark of ' + REAL_TABLE + '):\n' + f.read())


if __name__ == '__main__':
    main()
