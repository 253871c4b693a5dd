"""Export a grounder's inference network to ONNX, checked against PyTorch.

    python tools/deployment/export_onnx.py configs/emtm_tacos.py CKPT --out emtm_tacos.onnx

Exports the network of the config's model (EMTM: shared encoder + student head -> start/end
logits; SeqPAN, SCDM and 2D-TAN teachers too) with a dynamic batch (batch 1 for SCDM and
2D-TAN) and query length, at the config's clip grid. Before writing, the graph is run in ONNX
Runtime on sample batches and compared with PyTorch; a difference above ``--tolerance`` stops the
export with an error and writes nothing. Without CHECKPOINT the weights are random (for speed
measurements). Run the file with ``tools/test.py CONFIG FILE.onnx``, ``tools/demo.py ...
--checkpoint FILE.onnx`` or ``init_grounder(CONFIG, FILE.onnx, backend='onnxruntime')``
(docs/deployment.md).
"""
import argparse
from typing import List, Optional

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmengine.config import DictAction

from mmemtm.apis import init_grounder
from mmemtm.deployment import DEFAULT_OPSET, DEFAULT_TOLERANCE, export_onnx


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a grounder to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (default: random weights)')
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET, help='ONNX opset')
    parser.add_argument('--tolerance', type=float, default=DEFAULT_TOLERANCE,
                        help='largest tolerated |ONNX - PyTorch| of the outputs')
    parser.add_argument('--length', type=int,
                        help='clip grid length of the sample inputs (default: the config\'s '
                        'max_vlen)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the checkpoint fully (any object: it can run code; only '
                        'for files you trust)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.vocab=PATH')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    model = init_grounder(args.config, args.checkpoint, cfg_options=args.cfg_options,
                          trust_checkpoint=args.trust_checkpoint)
    report = export_onnx(model, args.out, args.opset, args.tolerance, args.length)
    for case in report.cases:
        shapes = ', '.join(f'{k} {v}' for k, v in case['shapes'].items())
        diffs = ', '.join(f'{k} {v:.2e}' for k, v in case['max_abs_diff'].items())
        print(f'parity on {shapes}: max |ONNX - PyTorch| {diffs}')
    print(f'{args.out}: {type(model).__name__}, parity {report.max_abs_diff:.2e} <= '
          f'{report.tolerance:g}')


if __name__ == '__main__':
    main()
