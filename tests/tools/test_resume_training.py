"""Training interrupted after an epoch and resumed with ``tools/train.py --resume`` in a fresh
process ends exactly where an uninterrupted run ends (CPU, same seed), thanks to
RandomStateHook; without the hook the dropout masks of the resumed epoch differ."""
import shutil
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from training_runs import final_val_metrics, run_parallel

CONFIG = 'configs/emtm_tacos_demo.py'
TINY_MODEL = ['model.dim=32', 'model.num_heads=4', 'model.encoder.char_dim=8', 'model.video_dim=32',
              'model.aggregator.dim=32']


def checkpoint_tensors(path: Path) -> Dict[str, torch.Tensor]:
    """Every tensor of a checkpoint's model state dict and optimizer state, by name."""
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    tensors = {f'model.{k}': v for k, v in ckpt['state_dict'].items()}
    for pid, state in ckpt['optimizer']['state'].items():
        tensors.update({f'optimizer.{pid}.{k}': v for k, v in state.items()
                        if isinstance(v, torch.Tensor)})
    return tensors


@pytest.mark.slow
def test_resumed_training_equals_uninterrupted_training(tmp_path, tiny_planted, tiny_cfg_options,
                                                        repo_root, tool_env, run_tool):
    curves = [str(tiny_planted / 'curves' / f'teacher{i}.npz') for i in range(3)]
    # A persistent loader worker (as in the demo configs) starts its iterator once per process:
    # at epoch 1 in the straight run, at epoch 2 in the resumed one.
    common = [*tiny_cfg_options(tiny_planted), *TINY_MODEL,
              f'train_dataloader.dataset.pipeline.4.files={curves}',
              'train_dataloader.num_workers=1', 'train_dataloader.persistent_workers=True',
              'train_dataloader.dataset.indices=16']  # 2 batches of 8 per epoch
    no_hook = ['custom_hooks=[]']
    straight, straight_no_hook, split = (tmp_path / 'straight', tmp_path / 'straight_no_hook',
                                         tmp_path / 'split')

    def train(work_dir: Path, epochs: int, *extra: str) -> List[str]:
        return [CONFIG, '--work-dir', str(work_dir), *extra, '--cfg-options', *common,
                f'train_cfg.max_epochs={epochs}']

    # A: two epochs straight; B: one epoch, then a fresh process resumes it to epoch 2. The
    # uninterrupted runs and the first epoch run in this process (with the threads of the tools'
    # own processes: run_tool), the resumed runs in fresh processes.
    for args in (train(straight, 2), train(straight_no_hook, 2) + no_hook, train(split, 1)):
        run_tool(['tools/train.py', *args])
    start = tmp_path / 'epoch_1_copy.pth'
    shutil.copy(split / 'epoch_1.pth', start)
    run_parallel([train(split, 2, '--resume'),
                  train(tmp_path / 'resumed_no_hook', 2, '--resume', str(start)) + no_hook],
                 repo_root, tool_env)

    resumed_log = ''.join(p.read_text() for p in split.glob('*/*.log'))
    assert 'resumed epoch: 1, iter: 2' in resumed_log
    assert 'random states of Python, NumPy and torch restored' in resumed_log
    first, split_first = checkpoint_tensors(straight / 'epoch_1.pth'), checkpoint_tensors(start)
    assert all(torch.equal(v, split_first[k]) for k, v in first.items())

    # With the hook: every tensor bit-for-bit equal (same ops, same order, one thread).
    expected = checkpoint_tensors(straight / 'epoch_2.pth')
    resumed = checkpoint_tensors(split / 'epoch_2.pth')
    assert expected.keys() == resumed.keys() and len(expected) > 100
    unequal = [k for k in expected if not torch.equal(expected[k], resumed[k])]
    assert not unequal, f'{len(unequal)} tensors differ after resuming, e.g. {unequal[:5]}'
    assert final_val_metrics(split, 2) == final_val_metrics(straight, 2)
    assert any(not torch.equal(first[k], expected[k]) for k in first)  # epoch 2 did train

    # Control, without the hook (dropout 0.2): the resumed run draws other dropout masks.
    plain = checkpoint_tensors(straight_no_hook / 'epoch_2.pth')
    plain_resumed = checkpoint_tensors(tmp_path / 'resumed_no_hook' / 'epoch_2.pth')
    gap = max(float((plain[k].float() - plain_resumed[k].float()).abs().max())
              for k in plain if plain[k].is_floating_point())
    assert gap > 1e-4, 'without RandomStateHook the resumed run should differ'
