"""Write the synthetic motion classification set (mp4 clips + mmaction VideoDataset lists).

Example::

    python tools/data/generate_synthetic_motion.py data/synthetic_motion
    python tools/data/generate_synthetic_motion.py data/synthetic_motion_noisy --label-noise 0.3

See :mod:`mmemtm.datasets.synthetic_motion` for what the clips show and the output layout.
"""
import argparse

import mmemtm  # noqa: F401
from mmemtm.datasets.synthetic_motion import (MOTION_CLASSES, SyntheticMotionConfig,
                                              generate_synthetic_motion)


def parse_args() -> argparse.Namespace:
    defaults = SyntheticMotionConfig()
    counts = dict(defaults.num_per_class)
    parser = argparse.ArgumentParser(description='Generate the synthetic motion video set')
    parser.add_argument('out', help='output folder')
    for split in ('train', 'val', 'test'):
        parser.add_argument(f'--{split}-per-class', type=int, default=counts[split],
                            help=f'{split} clips per class (default {counts[split]})')
    parser.add_argument('--frames', type=int, default=defaults.num_frames, help='frames per clip')
    parser.add_argument('--size', type=int, default=defaults.size, help='frame side in pixels')
    parser.add_argument('--fps', type=int, default=defaults.fps, help='frame rate of the files')
    parser.add_argument('--noise-std', type=float, default=defaults.noise_std,
                        help='std of the pixel noise (0-255)')
    parser.add_argument('--label-noise', type=float, default=defaults.label_noise,
                        help='fraction of training labels replaced by another class')
    parser.add_argument('--distractors', type=int, nargs=2, default=defaults.num_distractors,
                        metavar=('MIN', 'MAX'), help='distractor shapes per clip')
    parser.add_argument('--seed', type=int, default=defaults.seed, help='seed')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = SyntheticMotionConfig(
        num_per_class=(('train', args.train_per_class), ('val', args.val_per_class),
                       ('test', args.test_per_class)),
        num_frames=args.frames, size=args.size, fps=args.fps, noise_std=args.noise_std,
        label_noise=args.label_noise, num_distractors=tuple(args.distractors), seed=args.seed)
    manifest = generate_synthetic_motion(args.out, cfg)
    sizes = {split: len(records) for split, records in manifest['splits'].items()}
    print(f'{args.out}: {len(MOTION_CLASSES)} classes, clips per split {sizes}')


if __name__ == '__main__':
    main()
