"""Test a grounding checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

CHECKPOINT is an mmengine checkpoint (``.pth``) or an ONNX graph exported from one by
``tools/deployment/export_onnx.py`` (``.onnx``: the network runs in ONNX Runtime, decoding and
metrics are the same). ``--show-dir DIR`` saves a figure of each query's prediction into DIR
(``<video_id>_<ann_index>.png``; ``--show-first N``: the first N queries).
"""
import argparse
import os
import os.path as osp

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmaction.registry import RUNNERS
from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmemtm.apis import check_checkpoint_fits, checkpoint_backend, read_checkpoint_weights
from mmemtm.compat import trusted_checkpoints
from mmemtm.deployment import onnx_model_config
from mmemtm.engine import WorkDirRunner
from mmemtm.utils.config_options import merge_cfg_options
from mmemtm.utils.preflight import MissingInputsError, check_config_inputs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a temporal sentence grounding model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (.pth), or an exported .onnx graph')
    parser.add_argument('--work-dir', help='folder for the logs and metrics')
    parser.add_argument('--dump', help='write per-query predictions to this JSON file')
    parser.add_argument('--quantized-gt', action='store_true',
                        help='score against the ground truth rounded to clip boundaries '
                        '(the EMTM reference protocol) instead of the annotated times')
    parser.add_argument('--show-dir',
                        help='save one figure per test query into this folder (predicted and '
                        'true moments, start/end distributions)')
    parser.add_argument('--show-first', type=int, default=None,
                        help='with --show-dir: figures of the first N queries only')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. test_dataloader.batch_size=8')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the checkpoint fully (any object: it can run code; only '
                        'for files you trust); without it objects outside mmemtm\'s allowlist '
                        'are refused')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def grounding_metrics(cfg: Config) -> list:
    """The ``GroundingMetric`` entries of the test evaluator."""
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    found = [m for m in metrics if m.get('type') == 'GroundingMetric']
    if not found:
        raise ValueError('--dump and --quantized-gt need a GroundingMetric in test_evaluator')
    return found


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.dump or args.quantized_gt:
        for metric in grounding_metrics(cfg):
            if args.dump:
                metric.dump_file = args.dump
            if args.quantized_gt:
                metric.quantized_gt = True
    if args.show_dir:
        import mmemtm.visualization  # noqa: F401  (registers the hook; imports matplotlib)
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(
            type='GroundingVisualizationHook', out_dir=args.show_dir,
            max_queries=args.show_first)]
    if checkpoint_backend(args.checkpoint) == 'onnxruntime':
        cfg.model = onnx_model_config(cfg.model, args.checkpoint)
        cfg.load_from = None
    else:
        cfg.load_from = args.checkpoint
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    try:  # every missing input at once, before anything is built or written
        check_config_inputs(cfg, splits=('test',), checkpoints=[args.checkpoint])
    except MissingInputsError as exc:
        raise SystemExit(str(exc)) from None
    runner = WorkDirRunner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if checkpoint_backend(args.checkpoint) == 'onnxruntime':
        runner.test()
        return
    # mmengine loads checkpoints non-strictly: refuse one that leaves weights untrained.
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    with trusted_checkpoints(args.trust_checkpoint):
        check_checkpoint_fits(model, read_checkpoint_weights(args.checkpoint), args.checkpoint)
        runner.test()


if __name__ == '__main__':
    main()
