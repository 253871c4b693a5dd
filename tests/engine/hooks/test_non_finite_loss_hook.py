"""NonFiniteLossHook: a NaN loss stops training before a checkpoint of the broken weights."""
import os
import warnings

import pytest
import torch
from mmengine.config import Config

from mmaction.registry import HOOKS
from mmemtm.engine import NonFiniteLossError, NonFiniteLossHook
from toy_runner import ToyModel, toy_runner


def checkpoints(folder) -> set:
    return {name for name in os.listdir(folder) if name.endswith('.pth')}


def test_a_nan_loss_stops_training_and_saves_no_checkpoint_of_it(tmp_path):
    runner = toy_runner(str(tmp_path), ToyModel(nan_from=3),
                        hooks=dict(finite_loss=dict(type='NonFiniteLossHook')))
    with pytest.raises(NonFiniteLossError, match=r'non-finite loss at epoch 1, iteration 3 '
                       r"\(batch 2 of the epoch\): \{'loss': nan\}"):
        runner.train()
    assert checkpoints(tmp_path) == {'iter_1.pth', 'iter_2.pth'}
    weights = torch.load(tmp_path / 'iter_2.pth', weights_only=False)['state_dict']
    assert all(torch.isfinite(w).all() for w in weights.values())


def test_without_the_hook_nan_weights_are_saved(tmp_path):
    """Why the hook exists: mmengine trains on and checkpoints NaN weights."""
    toy_runner(str(tmp_path), ToyModel(nan_from=3)).train()
    weights = torch.load(tmp_path / 'iter_8.pth', weights_only=False)['state_dict']
    assert not torch.isfinite(weights['linear.weight']).all()


def test_finite_losses_train_to_the_end(tmp_path):
    runner = toy_runner(str(tmp_path), hooks=dict(finite_loss=dict(type='NonFiniteLossHook')))
    runner.train()
    assert 'iter_8.pth' in checkpoints(tmp_path)


def test_only_the_named_keys_are_checked():
    hook = NonFiniteLossHook(keys=['loss'])
    runner = type('R', (), dict(epoch=0, iter=0, work_dir='w'))()
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.0),
                                                  loss_kd_debug=torch.tensor(float('inf'))))
    with pytest.raises(NonFiniteLossError):
        NonFiniteLossHook().after_train_iter(
            runner, 0, outputs=dict(loss=torch.tensor(1.0), loss_kd=torch.tensor(float('inf'))))


def test_hook_runs_before_the_checkpoint_hook_and_is_in_the_runtime_config():
    from mmengine.hooks import CheckpointHook
    from mmengine.runner.priority import get_priority
    assert get_priority(NonFiniteLossHook.priority) < get_priority(CheckpointHook.priority)
    cfg = Config.fromfile('configs/_base_/grounding_runtime.py')
    assert cfg.default_hooks.finite_loss == dict(type='NonFiniteLossHook')
    assert isinstance(HOOKS.build(cfg.default_hooks.finite_loss), NonFiniteLossHook)


def test_a_loss_still_in_the_graph_is_checked_without_a_warning():
    loss = torch.tensor(2.0, requires_grad=True) * 3
    runner = type('R', (), dict(epoch=0, iter=0, work_dir='w'))()
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # torch: "Converting a tensor with requires_grad=True..."
        NonFiniteLossHook().after_train_iter(runner, 0, outputs=dict(loss=loss))
        with pytest.raises(NonFiniteLossError, match=r"\{'loss': inf\}"):
            NonFiniteLossHook().after_train_iter(runner, 0, outputs=dict(loss=loss * float('inf')))
