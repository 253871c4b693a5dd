"""Two CPU processes (``torch.distributed.run`` + gloo) train like one process at the same global
batch size.

mmengine's DefaultSampler gives rank ``r`` the items ``r, r + 2, ...`` of the same seeded
permutation, so iteration ``i`` of 2 ranks x batch 4 sees the 8 queries of iteration ``i`` of 1
process x batch 8, and DDP averages the two ranks' gradients. That average equals the
single-process gradient when the loss is a mean over queries: dropout is off, the student-only
model has no batch statistics, and every query has the same number of clips (max_vlen 32, which
both planted videos reach), so the matching loss's mean over the valid clips of the process's
batch is a mean over its queries too. What is left is float rounding in the reduction.
"""
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import torch

from ports import free_port
from rankings import assert_same_ranking
from training_runs import final_val_metrics

CONFIG = 'configs/ablations/student_only_tacos_demo.py'
MAX_VLEN = 32
MODEL = ['model.dim=32', 'model.num_heads=4', 'model.encoder.char_dim=8', 'model.video_dim=32',
         'model.drop_rate=0.0', f'model.max_vlen={MAX_VLEN}',
         f'model.data_preprocessor.max_vlen={MAX_VLEN}', 'train_cfg.max_epochs=2',
         *[f'{split}_dataloader.dataset.pipeline.1.max_vlen={MAX_VLEN}'
           for split in ('train', 'val', 'test')]]


def options(root: Path, tiny_cfg_options, batch_size: int, work_dir: Path) -> List[str]:
    # 16 training queries: 2 batches of 8, or 2 batches of 4 on each of 2 ranks.
    return [*tiny_cfg_options(root), *MODEL, 'train_dataloader.dataset.indices=16',
            f'train_dataloader.batch_size={batch_size}',
            f'val_evaluator.dump_file={work_dir / "val_predictions.json"}']


def weights(work_dir: Path) -> Dict[str, torch.Tensor]:
    ckpt = torch.load(work_dir / 'epoch_2.pth', map_location='cpu', weights_only=False)
    return {k: v.double() for k, v in ckpt['state_dict'].items() if v.is_floating_point()}


def relative_gap(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> float:
    """``||a - b|| / ||a||`` over all tensors together."""
    diff = sum(float(((a[k] - b[k])**2).sum()) for k in a)
    return (diff / sum(float((a[k]**2).sum()) for k in a))**0.5


@pytest.mark.slow
def test_two_cpu_processes_match_one_process(tmp_path, tiny_planted, tiny_cfg_options, repo_root,
                                             tool_env, run_tool):
    single, half_batch, dist = tmp_path / 'single', tmp_path / 'half_batch', tmp_path / 'dist'
    # The one-process runs in this process (with the threads each rank has: run_tool).
    for work_dir, batch_size in ((single, 8), (half_batch, 4)):
        run_tool(['tools/train.py', CONFIG, '--work-dir', str(work_dir), '--cfg-options',
                  *options(tiny_planted, tiny_cfg_options, batch_size, work_dir)])
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_addr', '127.0.0.1', '--master_port', str(free_port()), 'tools/train.py',
         CONFIG, '--launcher', 'pytorch', '--work-dir', str(dist), '--cfg-options',
         'env_cfg.dist_cfg.backend=gloo', *options(tiny_planted, tiny_cfg_options, 4, dist)],
        cwd=repo_root, env=tool_env, capture_output=True,
        text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'Distributed launcher: pytorch' in out and 'Distributed training: True' in out
    assert 'Epoch(train) [2][2/2]' in out  # 8 queries per rank

    expected, got, other = weights(single), weights(dist), weights(half_batch)
    assert got.keys() == expected.keys()
    # Float rounding of the gradient reduction only: all weights together agree to 1e-5
    # (relative L2), and no single value differs by more than half a step of the peak learning
    # rate 2e-3 (Adam amplifies rounding noise most in the start/end logit biases, whose exact
    # gradient is zero because the softmax ignores them).
    assert relative_gap(expected, got) < 1e-5
    worst = max(float((expected[k] - got[k]).abs().max()) for k in expected)
    assert worst < 1e-3, worst
    # Control: a different global batch (1 x 4) moves the weights 100 times further.
    assert relative_gap(expected, other) > 1e-3
    metrics, dist_metrics = final_val_metrics(single, 2), final_val_metrics(dist, 2)
    assert metrics.keys() == dist_metrics.keys() and 'R1@0.5' in metrics
    # The same ranked moments for every validation query (scores ~4e-6 apart, relative), but
    # where two moments' scores tie within what the weights' rounding difference changes them by
    # (ties that close are rare): there either run may rank either first
    # (rankings.assert_same_ranking), and the metrics, percentages of the queries, may differ by
    # that query's share.
    predictions = [sorted(json.loads((work_dir / 'val_predictions.json').read_text()),
                          key=lambda p: p['query_id']) for work_dir in (single, dist)]
    assert [p['query_id'] for p in predictions[0]] == [p['query_id'] for p in predictions[1]]
    tied = sum(assert_same_ranking(a['pred_moments'], a['pred_scores'], b['pred_moments'],
                                   b['pred_scores'], rel=1e-3) is not None
               for a, b in zip(*predictions))
    assert tied <= 1
    for key, value in metrics.items():
        tolerance = 100 / len(predictions[0]) if tied else 0.01 if key == 'mIoU' else 0.0
        assert dist_metrics[key] == pytest.approx(value, abs=tolerance * (1 + 1e-9)), key
