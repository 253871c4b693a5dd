"""Dump a trained teacher's unified start/end curves for every query of a split.

Example (the curves EMTM distils from are those of the TRAIN split)::

    python tools/dump_teacher_curves.py configs/teachers/seqpan_tacos.py work_dirs/seqpan/best.pth \
        --out data/teachers/tacos_SeqPAN_train.npz --split train --name SeqPAN

The model must implement ``teacher_outputs(inputs)`` (the teacher-output contract). The split's
dataset is read with the TEST pipeline (no targets, no shuffling); each batch goes through the
model's data preprocessor and ``teacher_outputs`` under ``torch.no_grad()``, then through the
unified teacher head of the outputs' ``kind`` (or ``--head``). Each query's curves are stored
cropped to the teacher's valid grid (proposal teachers are drawn on the query's clip grid, or on
``--grid-len`` clips), in the format of ``docs/teacher_curves.md``, written atomically.
"""
import argparse
import copy
import json
import os.path as osp
from typing import Iterator, List, Optional, Tuple

import torch

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmaction.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint
from mmengine.utils import ProgressBar
from mmemtm.datasets.teacher_curves_file import TeacherCurveEntry, save_teacher_curves
from mmemtm.models.heads import BaseTeacherCurveHead, build_teacher_curve_head


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Dump a teacher's unified curves of a split")
    parser.add_argument('config', help='config of the teacher model')
    parser.add_argument('checkpoint', help='checkpoint of the teacher')
    parser.add_argument('--out', required=True, help='output teacher curve file (.npz)')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train',
                        help='split whose queries are dumped (EMTM trains on the train split)')
    parser.add_argument('--name', help='teacher name stored in the file (default: config name)')
    parser.add_argument('--head', type=json.loads, default=None,
                        help='unified head config as JSON, e.g. \'{"type": '
                        '"SpanTeacherCurveHead", "activation": "softmax"}\' (default: the '
                        "reference head of the outputs' kind)")
    parser.add_argument('--grid-len', type=int, default=None,
                        help='clips to draw proposal teachers on (default: the query\'s clips)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='queries per batch (default: the split\'s dataloader batch size)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='data-loader workers (default: the split\'s dataloader setting)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device of the model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.topk=5')
    return parser.parse_args(argv)


def build_split_dataloader(cfg: Config, split: str, batch_size: Optional[int],
                           num_workers: Optional[int]) -> torch.utils.data.DataLoader:
    """The ``split``'s dataset with the test pipeline, in order, every query exactly once."""
    loader_cfg = cfg.get(f'{split}_dataloader')
    if not loader_cfg or 'dataset' not in loader_cfg:
        raise ValueError(f'the config has no {split}_dataloader.dataset')
    dataset = copy.deepcopy(loader_cfg['dataset'])
    if 'pipeline' not in dataset or 'ann_file' not in dataset:
        raise ValueError(f'{split}_dataloader.dataset must be a grounding dataset with '
                         f'ann_file and pipeline (dataset wrappers are not supported)')
    dataset.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    dataset.test_mode = True
    workers = loader_cfg.get('num_workers', 0) if num_workers is None else num_workers
    return Runner.build_dataloader(dict(
        batch_size=batch_size or loader_cfg.get('batch_size', 1),
        num_workers=workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        dataset=dataset))


def teacher_batches(model: torch.nn.Module, dataloader: torch.utils.data.DataLoader
                    ) -> Iterator[Tuple[dict, dict, list]]:
    """``(teacher outputs, batch inputs, data samples)`` of every batch, without gradients."""
    with torch.no_grad():
        for data in dataloader:
            data = model.data_preprocessor(data, False)
            yield model.teacher_outputs(data['inputs']), data['inputs'], data['data_samples']


def batch_entries(head: BaseTeacherCurveHead, outputs: dict, inputs: dict, samples: list,
                  grid_len: Optional[int]) -> List[TeacherCurveEntry]:
    """One entry per query of the batch: its curves on the teacher's valid grid."""
    grid = grid_len if grid_len is not None else inputs['video_mask'].sum(1).long()
    curves = head.curves_on_teacher_grid(outputs, grid)
    return [TeacherCurveEntry(s.query_id, s.video_id, s.sentence, c.cpu().numpy())
            for s, c in zip(samples, curves)]


def dump(args: argparse.Namespace) -> int:
    """Run the teacher over the split and write its curve file; returns the queries written."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    if not callable(getattr(model, 'teacher_outputs', None)):
        raise TypeError(f'{type(model).__name__} has no teacher_outputs(inputs): it cannot act '
                        'as a teacher')
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    dataloader = build_split_dataloader(cfg, args.split, args.batch_size, args.num_workers)
    dataset = dataloader.dataset
    head, entries = None, []
    progress = ProgressBar(len(dataset))
    for outputs, inputs, samples in teacher_batches(model, dataloader):
        if head is None:
            head = build_teacher_curve_head(outputs.get('kind'), args.head).to(args.device)
        entries += batch_entries(head, outputs, inputs, samples, args.grid_len)
        progress.update(len(samples))
    expected = [dataset.get_data_info(i)['query_id'] for i in range(len(dataset))]
    missing = sorted(set(expected) - {e.query_id for e in entries})
    if missing or len(entries) != len(expected):
        raise RuntimeError(f'{len(entries)} queries dumped, {len(expected)} in the '
                           f'{args.split} split; missing e.g. {missing[:5]}')
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    meta = dict(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint),
                split=args.split, ann_file=dataset.ann_file, head=repr(head))
    written = save_teacher_curves(args.out, entries, teacher=name, kind=head.kind,
                                  extra_meta=meta)
    print(f'\n{written} {head.kind} teacher curves of {name} ({args.split} split) written to '
          f'{args.out}')
    return written


def main(argv: Optional[List[str]] = None) -> None:
    dump(parse_args(argv))


if __name__ == '__main__':
    main()
