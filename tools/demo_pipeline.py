"""The main job on the bundled data (``make demo``).

1. Plant synthetic features for the bundled TACoS demo subset (real annotations and GloVe).
2. Train and test each model of the demo, in order.
3. Print one table: R1@0.3/0.5/0.7 and mIoU on the test split, and trainable parameters.

All numbers come from PLANTED SYNTHETIC features: they compare models on identical data and are not
TACoS results.
"""
import argparse
import os.path as osp
import time
from typing import Dict, List, NamedTuple

import mmemtm  # noqa: F401
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.text import load_word_vocabulary

DEMO_ANN = 'demo/data/tacos_subset'
PLANTED = 'data/planted/tacos_subset'


class Stage(NamedTuple):
    """One model of the demo: its table row name and config."""
    name: str
    config: str


STAGES = [
    Stage('trivial baseline (relative-span prior)', 'configs/baselines/span_prior_tacos_demo.py'),
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


def trainable_parameters(runner: Runner) -> int:
    return sum(p.numel() for p in runner.model.parameters() if p.requires_grad)


def run_stage(stage: Stage, work_root: str, planted: str) -> Dict[str, float]:
    """Train ``stage`` and test its best checkpoint (by validation R1@0.7); returns the test
    metrics, the trainable parameters and the minutes spent."""
    cfg = Config.fromfile(stage.config)
    cfg.work_dir = osp.join(work_root, osp.splitext(osp.basename(stage.config))[0])
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_prefix.features = planted
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = runner.message_hub.get_info('best_ckpt')
    if best:
        runner.load_checkpoint(best)
    metrics = runner.test()
    metrics.update(params=trainable_parameters(runner), minutes=(time.time() - start) / 60)
    return metrics


def format_table(rows: List[tuple]) -> str:
    header = f'{"model":<42} {"R1@0.3":>7} {"R1@0.5":>7} {"R1@0.7":>7} {"mIoU":>7} ' \
             f'{"params":>9} {"min":>5}'
    lines = [header, '-' * len(header)]
    for name, m in rows:
        lines.append(f'{name:<42} {m["R1@0.3"]:7.2f} {m["R1@0.5"]:7.2f} {m["R1@0.7"]:7.2f} '
                     f'{m["mIoU"]:7.2f} {m["params"]:9,d} {m["minutes"]:5.1f}')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description='Run the mmemtm demo on the bundled data')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--planted', default=PLANTED, help='planted feature folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the planted features')
    args = parser.parse_args()
    plant_features(args.planted, args.seed)
    rows = [(stage.name, run_stage(stage, args.work_dir, args.planted)) for stage in STAGES]
    table = format_table(rows)
    MMLogger.get_current_instance().info('demo finished')
    print('\nTest split of the TACoS demo subset, PLANTED SYNTHETIC features '
          '(not TACoS results):\n' + table)


if __name__ == '__main__':
    main()
