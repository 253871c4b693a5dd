"""Import teacher outputs produced elsewhere ("bring your own teacher") as a teacher curve file.

Example (SeqPAN logits saved by its own code, one row per training query, in annotation order)::

    python tools/import_teacher_outputs.py seqpan_train_logits.npz --kind span \
        --ann data/tacos/train.json --name SeqPAN --out data/teachers/tacos_SeqPAN_train.npz

The conversion is :func:`mmemtm.apis.external_output_import.import_teacher_outputs`. Accepted inputs
(``.npz``, ``.pkl``/``.pickle``, ``.json``; layouts in ``docs/teacher_curves.md``):
a table of per-query columns, a mapping from query id to record, or a list of records. A record
holds the outputs of one query, by ``--kind``:

* ``span``: ``start_logits`` ``[L]`` + ``end_logits`` ``[L]``, or ``logits`` ``[2, L]``;
  optional ``valid_len``;
* ``map2d``: ``score_map`` ``[T, T]``; optional ``valid_len``;
* ``proposals``: ``proposals`` ``[K, 2]`` (fractions of the video) + ``scores`` ``[K]``;
* ``curves``: ``curves`` ``[2, L]``, already unified (stored as they are).

Records are keyed by ``query_id``, or by ``video_id`` + ``ann_index``, or by nothing (then they
follow the order of the annotation file's records, ``--ann``). Outputs go through the
teacher-curve converter of their kind (or ``--converter``); curves are stored on the teacher's
valid grid.

Pickles are unpickled with :func:`mmemtm.utils.load_data_pickle`: only numpy arrays, torch
tensors and plain containers are accepted, so the file cannot run code. ``--trust-pickle``
unpickles a file you trust fully (any object), with a warning.
"""
import argparse
import json
from typing import List, Optional

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmemtm.apis.external_output_import import PAYLOAD_FIELDS, import_teacher_outputs


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Import teacher outputs as a teacher curve file')
    parser.add_argument('input', help='teacher outputs (.npz, .pkl/.pickle or .json)')
    parser.add_argument('--kind', required=True, choices=sorted(PAYLOAD_FIELDS),
                        help='kind of the outputs')
    parser.add_argument('--ann', required=True,
                        help='annotation file of the queries (the training split)')
    parser.add_argument('--reader', type=json.loads, default=None,
                        help='reader config of --ann as JSON (default JsonListReader)')
    parser.add_argument('--out', required=True, help='output teacher curve file (.npz)')
    parser.add_argument('--name', required=True, help='teacher name stored in the file')
    parser.add_argument('--converter', '--head', dest='converter', type=json.loads,
                        default=None, help='teacher-curve converter config as JSON (default: '
                        "the reference converter of the kind; --head is its old name)")
    parser.add_argument('--grid-len', type=int, default=None,
                        help='clips to draw proposals on (required for --kind proposals), e.g. '
                        "the teacher's clip grid or the student's max_vlen")
    parser.add_argument('--unpadded', action='store_true',
                        help='span/map2d records without valid_len hold exactly the clips the '
                        'teacher saw (no padding); without this flag such records are refused')
    parser.add_argument('--allow-partial', action='store_true',
                        help='accept inputs that miss some queries of --ann')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='unpickle a .pkl/.pickle input fully (any object: it can run code; '
                        'only for files you trust); without it only arrays, tensors and plain '
                        'containers are accepted')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    written = import_teacher_outputs(
        args.input, args.kind, args.ann, args.out, args.name, reader=args.reader,
        converter=args.converter, grid_len=args.grid_len, unpadded=args.unpadded,
        allow_partial=args.allow_partial, trust_pickle=args.trust_pickle)
    print(f'\n{written} {args.kind} teacher curves of {args.name} written to {args.out}')


if __name__ == '__main__':
    main()
