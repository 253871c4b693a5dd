"""A deterministic synthetic video classification set whose classes are motion patterns.

Each clip shows a textured shape on a textured background; its class is *how it moves*
(direction, speed, rotation, periodicity: :data:`MOTION_CLASSES`). Its appearance (shape,
texture, colours, size, start position) is drawn independently of the class, and smaller
distractor shapes wander at random, so only the motion tells the classes apart (and telling
"left" from "right" or a rotation's sense needs temporal order). Pixel noise is added, and the
training labels can be corrupted (``label_noise``) to study learning from weak labels; the true
labels stay in ``manifest.json``.

Output (``generate_synthetic_motion``)::

    out/videos/<split>/<split>_00000.mp4   # mp4 (MPEG-4 part 2, OpenCV's writer), RGB, H x W
    out/<split>.txt                        # mmaction VideoDataset list: "videos/... <label>"
    out/classes.txt                        # class names, one per line (label order)
    out/manifest.json                      # settings, and per split: file, label, true label

Clips are drawn from ``numpy.random.default_rng([seed, split, index])``, so a clip never depends
on the other clips or on the split sizes, and a rerun writes the same files (an existing folder
with the same settings is kept; other settings are refused).
"""
import dataclasses
import json
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmemtm.utils import atomic_write, dump_json_atomic, read_json

SPLITS = ('train', 'val', 'test')
#: Class names in label order, and their motion: translation per frame (dx, dy) in units of the
#: frame side, rotation in degrees per frame, oscillation (axis, amplitude in frame sides).
MOTION_CLASSES = (
    'right_slow', 'right_fast', 'left_slow', 'left_fast', 'up', 'down', 'rotate_clockwise',
    'rotate_counterclockwise', 'oscillate_horizontal', 'oscillate_vertical')
SLOW, FAST, VERTICAL = 0.025, 0.055, 0.04
ROTATION_DEG = 15.0
OSC_AMPLITUDE, OSC_PERIOD = 0.18, 8.0
MANIFEST_VERSION = 1


class SyntheticMotionError(ValueError):
    """Bad generator settings, or an output folder made with other settings (names the file)."""


@dataclasses.dataclass(frozen=True)
class SyntheticMotionConfig:
    """Settings of the generated set.

    Args:
        num_per_class: Clips per class of each split, ``{'train': n, 'val': n, 'test': n}``.
        num_frames: Frames per clip.
        size: Frame side in pixels (square frames).
        fps: Frame rate written in the files.
        num_distractors: ``(min, max)`` distractor shapes per clip.
        noise_std: Std of the Gaussian pixel noise (0-255 scale).
        label_noise: Fraction of *training* labels replaced by another class at random.
        speed_jitter: Relative random change of each clip's speed.
        seed: Seed of everything.
    """

    num_per_class: Tuple[Tuple[str, int], ...] = (('train', 100), ('val', 20), ('test', 40))
    num_frames: int = 16
    size: int = 32
    fps: int = 8
    num_distractors: Tuple[int, int] = (1, 1)
    noise_std: float = 4.0
    label_noise: float = 0.0
    speed_jitter: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        counts = dict(self.num_per_class)
        if set(counts) - set(SPLITS) or any(n < 0 for n in counts.values()):
            raise SyntheticMotionError(f'num_per_class needs counts >= 0 for splits of {SPLITS}, '
                                       f'got {counts}')
        if self.num_frames < 2 or self.size < 16:
            raise SyntheticMotionError(f'clips need at least 2 frames of 16 x 16 pixels, got '
                                       f'{self.num_frames} frames of {self.size}')
        if not 0.0 <= self.label_noise < 1.0:
            raise SyntheticMotionError(f'label_noise must lie in [0, 1), got {self.label_noise}')
        lo, hi = self.num_distractors
        if not 0 <= lo <= hi:
            raise SyntheticMotionError(f'num_distractors must be (min, max) with 0 <= min <= max, '
                                       f'got {self.num_distractors}')

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))


def _texture(rng: np.random.Generator, side: int) -> np.ndarray:
    """A random texture ``[side, side, 3]`` float in 0-255: stripes, checks or blobs."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    colours = rng.uniform(20, 235, (2, 3)).astype(np.float32)
    kind = rng.integers(3)
    if kind == 0:
        angle, freq = rng.uniform(0, np.pi), rng.uniform(2, 5)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (xx * np.cos(angle) + yy * np.sin(angle)))
    elif kind == 1:
        n = rng.integers(2, 5)
        t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
    else:
        coarse = rng.uniform(0, 1, (4, 4)).astype(np.float32)
        t = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return colours[0] * (1 - t[..., None]) + colours[1] * t[..., None]


def _shape_mask(rng: np.random.Generator, side: int) -> np.ndarray:
    """A random shape mask ``[side, side]`` in ``[0, 1]`` (square, triangle, cross, L-shape,
    disc with a notch): none of them looks the same after a small rotation."""
    mask = np.zeros((side, side), np.float32)
    m, c = max(side // 8, 1), side // 2
    kind = rng.integers(5)
    if kind == 0:
        mask[m:side - m, m:side - m] = 1
    elif kind == 1:
        pts = np.array([[c, m], [side - m, side - m], [m, side - m]], np.int32)
        cv2.fillPoly(mask, [pts], 1.0)
    elif kind == 2:
        w = side // 6
        mask[c - w:c + w, m:side - m] = 1
        mask[m:side - m, c - w:c + w // 2] = 1
    elif kind == 3:
        mask[m:side - m, m:m + side // 3] = 1
        mask[side - m - side // 3:side - m, m:side - m] = 1
    else:
        cv2.circle(mask, (c, c), c - m, 1.0, -1)
        cv2.rectangle(mask, (c, c - side // 10), (side - m, c + side // 10), 0.0, -1)
    return mask


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random background ``[size, size, 3]`` float in 0-255."""
    coarse = rng.uniform(70, 170, (3, 3, 3)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_LINEAR)


def _trajectory(label: int, rng: np.random.Generator, cfg: SyntheticMotionConfig
                ) -> Tuple[np.ndarray, np.ndarray]:
    """Centre positions ``[T, 2]`` (pixels) and angles ``[T]`` (degrees) of class ``label``."""
    name, t = MOTION_CLASSES[label], np.arange(cfg.num_frames, dtype=np.float64)
    size, jitter = cfg.size, 1 + rng.uniform(-cfg.speed_jitter, cfg.speed_jitter)
    step = dict(right_slow=(SLOW, 0), right_fast=(FAST, 0), left_slow=(-SLOW, 0),
                left_fast=(-FAST, 0), up=(0, -VERTICAL), down=(0, VERTICAL)).get(name, (0, 0))
    velocity = np.array(step) * size * jitter
    travel, margin = velocity * (cfg.num_frames - 1), size * 0.15
    low = margin + np.maximum(-travel, 0)
    high = size - margin - np.maximum(travel, 0)
    start = np.where(low <= high, rng.uniform(np.minimum(low, high), np.maximum(low, high)),
                     (low + high) / 2)
    centres = start[None] + t[:, None] * velocity[None]
    angles = np.full(cfg.num_frames, rng.uniform(0, 360))
    if name.startswith('rotate'):
        sense = -1 if name == 'rotate_clockwise' else 1
        angles = angles + sense * ROTATION_DEG * jitter * t
    if name.startswith('oscillate'):
        axis = 0 if name == 'oscillate_horizontal' else 1
        phase = rng.uniform(0, 2 * np.pi)
        centres[:, axis] += OSC_AMPLITUDE * size * np.sin(2 * np.pi * t / OSC_PERIOD + phase)
    return centres, angles


def _paste(frame: np.ndarray, texture: np.ndarray, mask: np.ndarray, centre: np.ndarray,
           angle: float) -> None:
    """Draw ``texture`` through ``mask`` rotated by ``angle`` at ``centre`` into ``frame``."""
    side = mask.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    matrix[:, 2] += centre - side / 2
    size = (frame.shape[1], frame.shape[0])
    alpha = cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    colour = cv2.warpAffine(texture, matrix, size, flags=cv2.INTER_LINEAR)
    frame *= 1 - alpha
    frame += colour * alpha


def render_clip(label: int, rng: np.random.Generator, cfg: SyntheticMotionConfig) -> np.ndarray:
    """Frames ``[T, H, W, 3]`` uint8 (RGB) of one clip of class ``label``."""
    size = cfg.size
    background = _background(rng, size)
    side = int(size * rng.uniform(0.34, 0.46))
    texture, mask = _texture(rng, side), _shape_mask(rng, side)
    centres, angles = _trajectory(label, rng, cfg)
    distractors = []
    for _ in range(rng.integers(cfg.num_distractors[0], cfg.num_distractors[1] + 1)):
        d_side = int(size * rng.uniform(0.1, 0.16))
        walk = np.cumsum(rng.normal(0, 0.015 * size, (cfg.num_frames, 2)), axis=0)
        distractors.append((_texture(rng, d_side), _shape_mask(rng, d_side),
                            rng.uniform(0.15 * size, 0.85 * size, 2) + walk,
                            rng.uniform(0, 360) + np.cumsum(rng.normal(0, 6, cfg.num_frames))))
    frames = np.empty((cfg.num_frames, size, size, 3), np.uint8)
    for i in range(cfg.num_frames):
        frame = background.copy()
        for d_tex, d_mask, d_pos, d_ang in distractors:
            _paste(frame, d_tex, d_mask, d_pos[i], float(d_ang[i]))
        _paste(frame, texture, mask, centres[i], float(angles[i]))
        frame += rng.normal(0, cfg.noise_std, frame.shape).astype(np.float32)
        frames[i] = frame.clip(0, 255).astype(np.uint8)
    return frames


def write_mp4(frames: np.ndarray, path: str, fps: int) -> None:
    """Write RGB frames ``[T, H, W, 3]`` uint8 as an mp4 file, atomically."""
    height, width = frames.shape[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = osp.join(tmp, 'clip.mp4')
        writer = cv2.VideoWriter(tmp_path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write mp4 files (needed for {path})')
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
        writer.release()
        with open(tmp_path, 'rb') as f:
            data = f.read()
    with atomic_write(path, 'wb') as f:
        f.write(data)


def write_annotations(path: str, files: Sequence[str], labels: Sequence[int]) -> None:
    """An mmaction ``VideoDataset`` list (``file label`` lines), written atomically."""
    if len(files) != len(labels):
        raise ValueError(f'{path}: {len(files)} files but {len(labels)} labels')
    with atomic_write(path) as f:
        f.writelines(f'{name} {int(label)}\n' for name, label in zip(files, labels))


def _noisy_label(label: int, index: int, cfg: SyntheticMotionConfig) -> int:
    rng = np.random.default_rng([cfg.seed, 1000, index])
    if rng.random() >= cfg.label_noise:
        return label
    return int((label + rng.integers(1, len(MOTION_CLASSES))) % len(MOTION_CLASSES))


def split_records(split: str, cfg: SyntheticMotionConfig) -> List[Dict]:
    """``[{'filename', 'label', 'true_label'}]`` of a split (classes interleaved)."""
    count = dict(cfg.num_per_class).get(split, 0)
    records = []
    for index in range(count * len(MOTION_CLASSES)):
        true = index % len(MOTION_CLASSES)
        label = _noisy_label(true, index, cfg) if split == 'train' else true
        records.append(dict(filename=f'videos/{split}/{split}_{index:05d}.mp4', label=label,
                            true_label=true))
    return records


def _check_existing(manifest_path: str, settings: dict) -> Optional[dict]:
    if not osp.isfile(manifest_path):
        return None
    manifest = read_json(manifest_path)
    if manifest.get('settings') != settings or manifest.get('version') != MANIFEST_VERSION:
        raise SyntheticMotionError(
            f'{manifest_path} was made with other settings ({manifest.get("settings")}); '
            f'write {settings} to another folder')
    return manifest


def generate_synthetic_motion(out_dir: str, cfg: SyntheticMotionConfig = SyntheticMotionConfig()
                              ) -> dict:
    """Write the set into ``out_dir`` (see the module docstring); finished clips of an
    interrupted run are kept. Returns the manifest."""
    settings = cfg.to_dict()
    manifest_path = osp.join(out_dir, 'manifest.json')
    manifest = _check_existing(manifest_path, settings)
    if manifest is not None and all(osp.isfile(osp.join(out_dir, r['filename']))
                                    for s in SPLITS for r in manifest['splits'][s]):
        return manifest
    splits = {split: split_records(split, cfg) for split in SPLITS}
    for code, split in enumerate(SPLITS):
        for index, record in enumerate(splits[split]):
            path = osp.join(out_dir, record['filename'])
            if not osp.isfile(path):
                rng = np.random.default_rng([cfg.seed, code, index])
                write_mp4(render_clip(record['true_label'], rng, cfg), path, cfg.fps)
        write_annotations(osp.join(out_dir, f'{split}.txt'),
                          [r['filename'] for r in splits[split]],
                          [r['label'] for r in splits[split]])
    with atomic_write(osp.join(out_dir, 'classes.txt')) as f:
        f.writelines(f'{name}\n' for name in MOTION_CLASSES)
    manifest = dict(version=MANIFEST_VERSION, settings=settings, classes=list(MOTION_CLASSES),
                    splits=splits)
    dump_json_atomic(manifest, manifest_path, indent=1)
    return manifest


def read_true_labels(out_dir: str, split: str = 'train') -> np.ndarray:
    """True labels ``[num_clips]`` of a split, in the order of its annotation list."""
    path = osp.join(out_dir, 'manifest.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: generate the set first')
    manifest = read_json(path)
    if split not in manifest.get('splits', {}):
        raise SyntheticMotionError(f'{path} has no split {split!r}')
    return np.array([r['true_label'] for r in manifest['splits'][split]], np.int64)


__all__ = ['MOTION_CLASSES', 'SPLITS', 'SyntheticMotionConfig', 'SyntheticMotionError',
           'generate_synthetic_motion', 'read_true_labels', 'render_clip', 'split_records',
           'write_annotations', 'write_mp4']
