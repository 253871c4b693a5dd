"""Keep the student of a trained recognition distiller: its weights, and optionally its config.

Example::

    python tools/strip_distiller_checkpoint.py work_dirs/gkd/best_acc_top1_epoch_12.pth \
        student.pth --config configs/recognition_kd/gkd_synthetic_motion.py \
        --out-config student_config.py
    python tools/test.py student_config.py student.pth     # or mmaction's own tools/test.py

The output checkpoint holds the student's weights only (``model.student.*`` without the prefix;
the teacher, GKD's CVAE, staged KD's pseudo labels, optimiser states and logs are dropped). The
input is read weights-only (``--trust-checkpoint`` to unpickle a file you trust fully).
"""
import argparse

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmemtm.apis.recognition_kd import strip_distiller_checkpoint, write_student_config
from mmemtm.compat import trusted_checkpoints


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Strip a distiller checkpoint to its student')
    parser.add_argument('checkpoint', help='checkpoint of a distiller (LogitDistiller, '
                        'GenerativeFeatureDistiller, StagedDistiller, ...)')
    parser.add_argument('out', help='checkpoint to write (the student alone)')
    parser.add_argument('--prefix', default='student.', help='prefix of the kept weights')
    parser.add_argument('--config', help='the distiller config, to write the student config')
    parser.add_argument('--out-config', help='where to write the student config (with --config)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the input fully (only for files you trust)')
    args = parser.parse_args()
    if bool(args.config) != bool(args.out_config):
        parser.error('--config and --out-config go together')
    return args


def main() -> None:
    args = parse_args()
    with trusted_checkpoints(args.trust_checkpoint):
        counts = strip_distiller_checkpoint(args.checkpoint, args.out, args.prefix)
    print(f'{args.out}: {counts["kept"]} tensors of the student kept, {counts["dropped"]} dropped')
    if args.config:
        write_student_config(args.config, args.out_config)
        print(f'{args.out_config}: the student config')


if __name__ == '__main__':
    main()
