"""Dump a trained teacher's unified start/end curves for every query of a split.

Example (the curves EMTM distils from are those of the TRAIN split)::

    python tools/dump_teacher_curves.py configs/teachers/seqpan_tacos.py work_dirs/seqpan/best.pth \
        --out data/teachers/tacos_SeqPAN_train.npz --split train --name SeqPAN

The model must implement ``teacher_outputs(inputs)`` (the teacher-output contract). The split's
dataset is read with the TEST pipeline (no targets, no shuffling); each batch goes through the
model's data preprocessor and ``teacher_outputs`` under ``torch.no_grad()``, then through the
teacher-curve converter of the outputs' ``kind`` (or ``--converter``). Each query's curves are
stored cropped to the teacher's valid grid (proposal teachers are drawn on the query's clip
grid, or on ``--grid-len`` clips), in the format of ``docs/teacher_curves.md``, written atomically.
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

import torch

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmaction.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmemtm.apis import load_grounder_checkpoint
from mmemtm.apis.curve_dumping import dump_teacher_curves
from mmemtm.compat import trusted_checkpoints
from mmemtm.datasets import TeacherCurveFile
from mmemtm.utils.config_options import merge_cfg_options


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Dump a teacher's unified curves of a split")
    parser.add_argument('config', help='config of the teacher model')
    parser.add_argument('checkpoint', help='checkpoint of the teacher')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the checkpoint fully (any object: it can run code; only '
                        'for files you trust)')
    parser.add_argument('--out', required=True, help='output teacher curve file (.npz)')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train',
                        help='split whose queries are dumped (EMTM trains on the train split)')
    parser.add_argument('--name', help='teacher name stored in the file (default: config name)')
    parser.add_argument('--converter', '--head', dest='converter', type=json.loads,
                        default=None,
                        help='teacher-curve converter config as JSON, e.g. \'{"type": '
                        '"SpanCurveConverter", "activation": "softmax"}\' (default: the '
                        "reference converter of the outputs' kind; --head is its old name)")
    parser.add_argument('--grid-len', type=int, default=None,
                        help='clips to draw proposal teachers on (default: the query\'s clips)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='queries per batch (default: the split\'s dataloader batch size)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='data-loader workers (default: the split\'s dataloader setting)')
    parser.add_argument('--dropout-samples', type=int, default=1,
                        help='average each query\'s curves over this many forward passes with '
                        'dropout active (Monte-Carlo dropout; default 1: one eval-mode pass)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device of the model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.topk=5')
    return parser.parse_args(argv)


def dump(args: argparse.Namespace) -> int:
    """Run the teacher over the split and write its curve file; returns the queries written."""
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    with trusted_checkpoints(args.trust_checkpoint):
        load_grounder_checkpoint(model, args.checkpoint)
    model.to(args.device)
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    meta = dict(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint))
    written = dump_teacher_curves(model, cfg, args.out, args.split, name, args.converter,
                                  args.grid_len, args.batch_size, args.num_workers, meta,
                                  dropout_samples=args.dropout_samples)
    kind = TeacherCurveFile(args.out).kind
    print(f'\n{written} {kind} teacher curves of {name} ({args.split} split) written to '
          f'{args.out}')
    return written


def main(argv: Optional[List[str]] = None) -> None:
    dump(parse_args(argv))


if __name__ == '__main__':
    main()
