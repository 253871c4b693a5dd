"""Cross-fitted (out-of-fold) teacher curves of the train split.

Example (5 SeqPAN teachers, each trained without one fold of the training videos)::

    python tools/cross_fit_teacher_curves.py configs/teachers/seqpan_charades_clip.py \
        --out data/teachers/charades_clip_SeqPAN_train_oof.npz \
        --work-dir work_dirs/seqpan_oof --folds 5 --name SeqPAN

The training queries are split into ``--folds`` folds by video (SHA-1 of the video id); fold
``k``'s teacher trains on the other folds' queries (checkpoint chosen on val by the config's
``save_best``) and gives the curves of fold ``k``'s queries. The written file covers the whole
train split, in annotation order, and records the folds and checkpoints in its meta information
(``cross_fit``). Each fold runs in ``WORK_DIR/fold{k}``: rerunning the command skips finished
folds and resumes an interrupted training (see :mod:`mmemtm.apis.cross_fitting`).
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmemtm.apis.cross_fitting import cross_fit_teacher_curves


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Out-of-fold teacher curves of the train split")
    parser.add_argument('config', help='config of the teacher model')
    parser.add_argument('--out', required=True, help='output teacher curve file (.npz)')
    parser.add_argument('--work-dir', required=True,
                        help='folder of the folds\' runs (fold{k}/), reused by a rerun')
    parser.add_argument('--folds', type=int, default=5, help='number of folds (>= 2)')
    parser.add_argument('--name', help='teacher name stored in the file (default: config name)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu',
                        help='device of the training')
    parser.add_argument('--epochs', type=int, default=None,
                        help='training epochs of each fold (default: the config\'s schedule)')
    parser.add_argument('--seed', type=int, default=0, help='random seed of every fold')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=3')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    """Run the cross-fitting; returns the written curve file."""
    args = parse_args(argv)
    init_default_scope('mmaction')
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    out = cross_fit_teacher_curves(args.config, args.out, args.work_dir, args.folds, name,
                                   args.device, args.epochs, args.seed, args.cfg_options)
    print(f'\nout-of-fold curves of {name} ({args.folds} folds) written to {out}')
    return out


if __name__ == '__main__':
    main()
