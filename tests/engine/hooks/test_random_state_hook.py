"""RandomStateHook: random states saved in checkpoints, restored only on resume, and validation
kept off the training stream."""
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch.utils.data import DataLoader

from mmaction.registry import HOOKS
from mmemtm.engine import RandomStateHook, capture_random_states, restore_random_states


def draws() -> tuple:
    """One number from each global generator (advances them)."""
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def fake_runner(epoch: int = 0, iteration: int = 0, randomness: dict = None) -> SimpleNamespace:
    loader = DataLoader(list(range(10)), batch_size=2)
    return SimpleNamespace(epoch=epoch, iter=iteration, seed=1234,
                           cfg=Config(dict(randomness=randomness or {})),
                           logger=MMLogger.get_instance('random_state_hook_test'),
                           train_loop=SimpleNamespace(dataloader=loader))


def test_capture_and_restore_replay_every_generator():
    states = capture_random_states()
    first = draws()
    assert draws() != first
    restore_random_states(states)
    assert draws() == first


def test_hook_is_registered_and_in_the_runtime_config():
    assert isinstance(HOOKS.build(dict(type='RandomStateHook')), RandomStateHook)
    cfg = Config.fromfile('configs/_base_/grounding_runtime.py')
    assert dict(type='RandomStateHook') in cfg.custom_hooks


def test_checkpoint_states_are_restored_before_resumed_training():
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(fake_runner(), checkpoint)
    expected = draws()
    assert checkpoint['random_states']['world_size'] == 1
    torch.manual_seed(99)  # what a fresh process does at start-up
    np.random.seed(99)
    random.seed(99)
    hook.after_load_checkpoint(fake_runner(), checkpoint)
    hook.before_train(fake_runner(epoch=1, iteration=18))
    assert draws() == expected


def test_weights_loaded_with_load_from_keep_the_configured_seed():
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(fake_runner(), checkpoint)
    torch.manual_seed(7)
    expected = float(torch.rand(1))
    torch.manual_seed(7)
    hook.after_load_checkpoint(fake_runner(), checkpoint)
    hook.before_train(fake_runner(epoch=0, iteration=0))  # load_from: training starts at 0
    assert float(torch.rand(1)) == expected


def test_checkpoints_without_states_change_nothing():
    hook = RandomStateHook()
    torch.manual_seed(3)
    expected = float(torch.rand(1))
    torch.manual_seed(3)
    hook.after_load_checkpoint(fake_runner(), {'state_dict': {}})
    hook.before_train(fake_runner(epoch=2, iteration=10))
    assert float(torch.rand(1)) == expected


def test_validation_does_not_consume_training_random_numbers():
    hook = RandomStateHook()
    runner = fake_runner(epoch=1)
    states = capture_random_states()
    expected = draws()
    restore_random_states(states)
    hook.before_val_epoch(runner)
    draws()  # e.g. the validation data loader's base seed
    hook.after_val_epoch(runner, metrics={})
    assert draws() == expected


def test_ranks_with_their_own_seeds_keep_them(monkeypatch):
    from mmemtm.engine.hooks import random_state_hook
    monkeypatch.setattr(random_state_hook, 'get_world_size', lambda: 2)
    hook = RandomStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(fake_runner(), checkpoint)
    assert checkpoint['random_states']['world_size'] == 2
    torch.manual_seed(5)
    expected = float(torch.rand(1))
    torch.manual_seed(5)
    hook.after_load_checkpoint(fake_runner(), checkpoint)
    hook.before_train(fake_runner(epoch=1, iteration=9, randomness=dict(diff_rank_seed=True)))
    assert float(torch.rand(1)) == expected


def test_starting_a_training_iterator_does_not_consume_training_random_numbers():
    hook = RandomStateHook()
    runner = fake_runner(epoch=3)
    loader = runner.train_loop.dataloader
    states = capture_random_states()
    expected = draws()
    restore_random_states(states)
    hook.before_train_epoch(runner)
    first = iter(loader)._base_seed  # the workers' base seed, drawn when an iterator starts
    assert draws() == expected
    hook.before_train_epoch(runner)  # the same epoch again (a resumed run): the same seed
    assert iter(loader)._base_seed == first != iter(loader)._base_seed
