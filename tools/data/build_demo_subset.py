"""Build the bundled TACoS demo subset from the real annotation and GloVe files.

Writes ``train.json``, ``val.json`` and ``test.json`` in the ``[video_id, duration, [start, end],
sentence]`` format (times in seconds from the 2D-TAN frame annotations) for a few videos of each
TACoS split, and ``glove/`` with the GloVe vectors of their words::

    python tools/data/build_demo_subset.py --tacos ../shared/data/tacos/2dtan_format \
        --glove ../shared/data/glove_subsets/tacos_glove42B_tgn --out demo/data/tacos_subset
"""
import argparse
import os.path as osp

import mmemtm  # noqa: F401
from mmemtm.datasets.annotation_readers import read_queries
from mmemtm.text import WordVocabulary, load_word_vocabulary, tokenize
from mmemtm.utils import dump_json_atomic

#: Videos per split: few queries each, so that the demo trains in minutes on a CPU.
NUM_VIDEOS = dict(train=12, val=2, test=3)


def pick_videos(queries: list, count: int) -> list:
    """The ``count`` videos with the fewest queries (ties by id)."""
    per_video = {}
    for q in queries:
        per_video[q['video_id']] = per_video.get(q['video_id'], 0) + 1
    return sorted(per_video, key=lambda v: (per_video[v], v))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description='Build the TACoS demo subset')
    parser.add_argument('--tacos', required=True, help='folder of the 2D-TAN TACoS files')
    parser.add_argument('--glove', required=True, help='GloVe subset folder of TACoS words')
    parser.add_argument('--out', required=True, help='output folder')
    args = parser.parse_args()
    words = set()
    for split, count in NUM_VIDEOS.items():
        queries, _ = read_queries(osp.join(args.tacos, f'{split}.json'),
                                  dict(type='TACoS2DTANReader'))
        videos = set(pick_videos(queries, count))
        records = [[q['video_id'], round(q['duration'], 2),
                    [round(t, 2) for t in q['timestamp']], q['sentence']]
                   for q in queries if q['video_id'] in videos]
        dump_json_atomic(records, osp.join(args.out, f'{split}.json'), indent=0)
        words.update(w for r in records for w in tokenize(r[3]))
        print(f'{split}: {len(videos)} videos, {len(records)} queries')
    glove = load_word_vocabulary(args.glove)
    kept = sorted(w for w in words if w in glove)
    WordVocabulary(kept, glove.vectors[[glove.stoi[w] for w in kept]]).save(
        osp.join(args.out, 'glove'))
    print(f'glove: {len(kept)} of {len(words)} words have a vector')


if __name__ == '__main__':
    main()
