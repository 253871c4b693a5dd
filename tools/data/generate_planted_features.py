"""Write planted-moment (SYNTHETIC) clip features for the videos of annotation files.

Example (the bundled TACoS demo subset)::

    python tools/data/generate_planted_features.py \
        --ann demo/data/tacos_subset/train.json demo/data/tacos_subset/val.json \
              demo/data/tacos_subset/test.json \
        --glove demo/data/tacos_subset/glove --out data/planted/tacos_subset --seed 0

The folder gets ``<video_id>.npy`` ``[n_clips, dim]``, ``feature_shapes.json`` and
``planted_meta.json`` (the recipe), the layout real features use.
"""
import argparse
import json

import mmemtm  # noqa: F401
from mmemtm.datasets.annotation_readers import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.text import load_word_vocabulary


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate planted-moment clip features')
    parser.add_argument('--ann', nargs='+', required=True,
                        help='annotation files whose moments are planted (all splits)')
    parser.add_argument('--reader', default='{"type": "JsonListReader"}',
                        help='reader config as JSON, e.g. \'{"type": "CharadesSTAReader", '
                        '"duration_file": "Charades_duration.json"}\'')
    parser.add_argument('--glove', required=True, help='GloVe subset folder or GloVe text file')
    parser.add_argument('--out', required=True, help='output feature folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--noise', type=float, default=1.0,
                        help='noise norm relative to a planted moment (difficulty)')
    parser.add_argument('--background', type=float, default=1.0,
                        help='norm of the per-video background vector')
    parser.add_argument('--dim', type=int, default=1024)
    parser.add_argument('--clip-seconds', type=float, default=2.0)
    parser.add_argument('--min-clips', type=int, default=8)
    parser.add_argument('--max-clips', type=int, default=1024)
    parser.add_argument('--dtype', choices=['float32', 'float16'], default='float32')
    parser.add_argument('--skip-existing', action='store_true',
                        help='keep videos already written (same recipe only)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    reader = json.loads(args.reader)
    queries = []
    for ann in args.ann:
        queries += read_queries(ann, reader, skip_invalid=True)[0]
    generator = PlantedFeatureGenerator(
        load_word_vocabulary(args.glove), dim=args.dim, clip_seconds=args.clip_seconds,
        min_clips=args.min_clips, max_clips=args.max_clips, noise=args.noise,
        background=args.background, seed=args.seed, dtype=args.dtype)
    shapes = generator.generate(queries, args.out, skip_existing=args.skip_existing)
    print(f'\nplanted SYNTHETIC features of {len(shapes)} videos ({len(queries)} queries) '
          f'written to {args.out}')


if __name__ == '__main__':
    main()
