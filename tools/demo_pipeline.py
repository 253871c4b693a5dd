"""The main job on the bundled data (``make demo``).

1. Plant synthetic features for the bundled TACoS demo subset (real annotations and GloVe).
2. Train the three heterogeneous teachers (span: SeqPAN, 2-D map: 2D-TAN, proposals: SCDM), test
   them, and dump their unified start/end curves on the train split.
3. Train the trivial baseline, EMTM's student alone, and EMTM distilled from the three teachers.
4. Print one table: R1@0.3/0.5/0.7 and mIoU on the test split, and the parameters each model
   runs at inference (trainable; EMTM: its student only).

All numbers come from PLANTED SYNTHETIC features: they compare models on identical data and are not
TACoS results.
"""
import argparse
import os.path as osp
import time
from typing import Dict, List, NamedTuple, Optional

import mmemtm  # noqa: F401
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from mmemtm.apis import dump_teacher_curves
from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.text import load_word_vocabulary

DEMO_ANN = 'demo/data/tacos_subset'
PLANTED = 'data/planted/tacos_subset'


class Stage(NamedTuple):
    """One model of the demo: its table row, config, and curve file name if it is a teacher."""
    name: str
    config: str
    curves: Optional[str] = None


TEACHERS = [
    Stage('SeqPAN (span teacher)', 'configs/teachers/seqpan_tacos_demo.py', 'seqpan'),
    Stage('2D-TAN (2-D map teacher)', 'configs/teachers/tan2d_tacos_demo.py', 'tan2d'),
    Stage('SCDM (proposal teacher)', 'configs/teachers/scdm_tacos_demo.py', 'scdm'),
]
STUDENTS = [
    Stage('trivial baseline (relative-span prior)', 'configs/baselines/span_prior_tacos_demo.py'),
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


def inference_parameters(model) -> int:
    """Trainable parameters run at inference (EMTM: the student's only)."""
    modules = model.parameter_groups()['student'] if hasattr(model, 'parameter_groups') \
        else [model]
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


def stage_config(stage: Stage, work_root: str, planted: str, curves: List[str]) -> Config:
    """The stage's config pointed at the planted features and at this run's teacher curves."""
    cfg = Config.fromfile(stage.config)
    cfg.work_dir = osp.join(work_root, osp.splitext(osp.basename(stage.config))[0])
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_prefix.features = planted
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform.type == 'LoadTeacherCurves':
            transform.files = curves
    return cfg


def run_stage(stage: Stage, cfg: Config, curves_dir: str) -> Dict[str, float]:
    """Train, test the best checkpoint (by validation R1@0.7) and, for a teacher, dump its
    train-split curves; returns the test metrics, parameters and minutes."""
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = runner.message_hub.get_info('best_ckpt')
    if best:
        runner.load_checkpoint(best)
    metrics = runner.test()
    if stage.curves:
        dump_teacher_curves(runner.model, cfg, osp.join(curves_dir, f'{stage.curves}.npz'),
                            name=stage.curves, num_workers=0)
    metrics.update(params=inference_parameters(runner.model),
                   minutes=(time.time() - start) / 60)
    return metrics


def format_table(rows: List[tuple]) -> str:
    header = f'{"model":<44} {"R1@0.3":>7} {"R1@0.5":>7} {"R1@0.7":>7} {"mIoU":>7} ' \
             f'{"params":>10} {"min":>5}'
    lines = [header, '-' * len(header)]
    for name, m in rows:
        lines.append(f'{name:<44} {m["R1@0.3"]:7.2f} {m["R1@0.5"]:7.2f} {m["R1@0.7"]:7.2f} '
                     f'{m["mIoU"]:7.2f} {m["params"]:10,d} {m["minutes"]:5.1f}')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description='Run the mmemtm demo on the bundled data')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--planted', default=PLANTED, help='planted feature folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the planted features')
    args = parser.parse_args()
    start = time.time()
    plant_features(args.planted, args.seed)
    curves_dir = osp.join(args.work_dir, 'curves')
    curves = [osp.join(curves_dir, f'{t.curves}.npz') for t in TEACHERS]
    rows = []
    for stage in TEACHERS + STUDENTS:
        cfg = stage_config(stage, args.work_dir, args.planted, curves)
        rows.append((stage.name, run_stage(stage, cfg, curves_dir)))
    MMLogger.get_current_instance().info(f'demo finished in {(time.time() - start) / 60:.1f} min')
    print('\nTest split of the TACoS demo subset (309 queries), PLANTED SYNTHETIC features '
          '(not TACoS results);\nparams: trainable parameters run at inference.\n'
          + format_table(rows))


if __name__ == '__main__':
    main()
