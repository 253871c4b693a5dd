"""Plot what EMTM distils for training queries: each teacher's start/end curves, the KAU-weighted
mixture with its weights, the student's distributions, and the predicted and true moments.

    python tools/visualization/plot_distillation.py configs/emtm_tacos_demo.py CKPT \
        --query-id s21-d50#3 --out-dir work_dirs/plots

Queries come from the TRAIN split (the only one with teacher curves); without ``--query-id`` the
first ``--num`` queries are drawn. One PNG per query.
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmemtm  # noqa: F401
import torch
from mmaction.registry import DATASETS
from mmengine.config import DictAction
from mmengine.dataset import pseudo_collate

from mmemtm.apis import init_grounder
from mmemtm.datasets import open_teacher_curves
from mmemtm.models.grounders import spans_to_moments
from mmemtm.visualization import distillation_figure, save_figure


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot teachers, KAU mixture and student')
    parser.add_argument('config', help='EMTM config')
    parser.add_argument('checkpoint', help='EMTM checkpoint')
    parser.add_argument('--query-id', nargs='+', help='query ids (<video_id>#<index>)')
    parser.add_argument('--num', type=int, default=3, help='queries drawn without --query-id')
    parser.add_argument('--out-dir', default='work_dirs/distillation_plots')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    return parser.parse_args(argv)


def teacher_names(pipeline: list) -> List[str]:
    """Names of the teachers of the ``LoadTeacherCurves`` transform, in slot order."""
    for transform in pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            return [open_teacher_curves(f if isinstance(f, str) else f['path']).teacher
                    for f in transform['files']]
    raise ValueError('the train pipeline has no LoadTeacherCurves: nothing is distilled')


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    model = init_grounder(args.config, args.checkpoint, cfg_options=args.cfg_options)
    if not hasattr(model, 'explain'):
        raise TypeError(f'{type(model).__name__} does not distil from teachers')
    dataset = DATASETS.build(model.cfg.train_dataloader.dataset)
    ids = [dataset.get_data_info(i)['query_id'] for i in range(len(dataset))]
    wanted = args.query_id or ids[:args.num]
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        raise KeyError(f'queries {unknown} are not in the train split {dataset.ann_file}')
    names = teacher_names(model.cfg.train_dataloader.dataset.pipeline)
    written = []
    for query_id in wanted:
        data = model.data_preprocessor(pseudo_collate([dataset[ids.index(query_id)]]), False)
        inputs, sample = data['inputs'], data['data_samples'][0]
        out = model.explain(inputs)
        v_len, duration = sample.v_len, float(sample.duration)
        moments, _ = spans_to_moments(out['spans'][0], out['scores'][0], v_len, duration)
        fig = distillation_figure(
            sample.sentence, duration, duration / v_len, names,
            inputs['teacher_curves'][0, :, :, :v_len].cpu().numpy(),
            out['weights'][0].cpu().numpy(), out['mixture'][0, :, :v_len].cpu().numpy(),
            torch.stack([out['start_prob'][0, :v_len], out['end_prob'][0, :v_len]]).numpy(),
            tuple(moments[0].tolist()), tuple(sample.gt_time))
        path = osp.join(args.out_dir, f'{query_id.replace("#", "_")}.png')
        save_figure(fig, path)
        written.append(path)
        print(f'{query_id}: {path}')
    return written


if __name__ == '__main__':
    main()
