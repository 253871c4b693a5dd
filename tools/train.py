"""Train a grounding model from a config: ``python tools/train.py CONFIG [options]``."""
import argparse
import os
import os.path as osp

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmaction.registry import RUNNERS
from mmengine.config import Config, DictAction
from mmemtm.compat import trusted_checkpoints
from mmemtm.engine import WorkDirRunner, lock_work_dir
from mmemtm.utils import FolderLockedError
from mmemtm.utils.io import LinkedFileError
from mmemtm.utils.config_options import merge_cfg_options
from mmemtm.utils.preflight import MissingInputsError, check_config_inputs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a temporal sentence grounding model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or from the latest one in the work '
                        'dir when no path is given')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the checkpoints the run loads (--resume, load_from, a '
                        'Pretrained init_cfg) fully (any object: they can run code; only for '
                        'files you trust); without it objects outside mmemtm\'s allowlist are '
                        'refused')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--no-validate', action='store_true', help='skip validation')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the actual batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='different seeds on different ranks')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms where available')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=3')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') not in ('OptimWrapper',
                                                                 'AmpOptimWrapper'):
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    randomness = dict(cfg.get('randomness') or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    merge_cfg_options(cfg, args.cfg_options)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    try:  # every missing input at once, before anything is built or written
        check_config_inputs(cfg, splits=('train', 'val'))
    except MissingInputsError as exc:
        raise SystemExit(str(exc)) from None
    try:  # before the runner writes its config copy and log folder into the work dir
        lock = lock_work_dir(cfg.work_dir)
    except (FolderLockedError, LinkedFileError) as exc:
        raise SystemExit(str(exc)) from None
    try:
        runner = (WorkDirRunner.from_cfg(cfg) if 'runner_type' not in cfg
                  else RUNNERS.build(cfg))
        with trusted_checkpoints(args.trust_checkpoint):
            runner.train()
    finally:
        if lock is not None:  # WorkDirLockHook releases it at the end of a run
            lock.release()


if __name__ == '__main__':
    main()
