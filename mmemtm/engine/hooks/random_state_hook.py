"""Checkpointing of the global random number generators, so that a resumed run continues the
random stream of the interrupted one."""
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from torch.utils.data import DataLoader

#: Key of the random states in a checkpoint.
CHECKPOINT_KEY = 'random_states'
#: Seed of the training data loader's generator: ``seed + EPOCH_SEED_STRIDE * epoch``.
EPOCH_SEED_STRIDE = 1_000_003


def capture_random_states() -> Dict[str, Any]:
    """States of Python's ``random``, NumPy's global generator, torch's CPU generator and (when
    CUDA is initialised) every CUDA device's generator."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: Dict[str, Any]) -> None:
    """Set the generators to ``states`` (from :func:`capture_random_states`).

    CUDA states are restored only when they were saved on as many devices as are visible now.
    """
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    cuda = states.get('cuda')
    if cuda is not None and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        else:
            print_log(f'CUDA random states of {len(cuda)} device(s) in the checkpoint, '
                      f'{torch.cuda.device_count()} visible now: CUDA generators not restored',
                      logger='current', level=30)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the global random states in checkpoints and restore them when training resumes.

    mmengine's resume restores the model, optimizer, schedulers, message hub and the sampler's
    epoch seed, but not the global generators that dropout and other random layers draw from: a
    resumed run then continues with other dropout masks than the interrupted one. With this hook
    (in ``custom_hooks`` of ``configs/_base_/grounding_runtime.py``) a run interrupted after a
    checkpoint and resumed with ``--resume`` ends with the weights of an uninterrupted run
    (same seed, device and number of threads). Not covered: random transforms running inside
    data-loader worker processes (mmemtm's pipelines have none), whose generators live in the
    workers and are re-seeded by mmengine when a run starts.

    * ``before_save_checkpoint``: the states of Python's ``random``, NumPy, torch (and CUDA) are
      stored under ``checkpoint['random_states']``.
    * ``after_load_checkpoint`` + ``before_train``: on resume (the loaded checkpoint's epoch or
      iteration is past 0), they are restored right before training continues, after everything
      mmengine does at start-up (model initialisation, re-seeding).
    * Validation runs between ``before_val_epoch`` and ``after_val_epoch`` on a saved copy of the
      training stream, so validating (or not, or at another interval) does not change the random
      numbers that training draws; without this the data loader of validation would consume
      training random numbers after the checkpoint was saved.
    * ``before_train_epoch``: the training data loader gets its own generator, seeded by the
      run's seed and the epoch, for the base seed it draws whenever it starts an iterator
      (every epoch, or once per process with ``persistent_workers``); otherwise that draw would
      come from the global stream at different points in a resumed and an uninterrupted run.
      (mmengine's ``worker_init_fn`` seeds the workers from the run's seed, not from it.)

    In multi-process training only rank 0 saves checkpoints, so its states are restored on every
    rank: exact when the ranks share the seed (``randomness.diff_rank_seed=False``, the default);
    with ``diff_rank_seed=True`` the hook keeps mmengine's re-seeded streams and warns.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._resumed_states: Optional[Dict[str, Any]] = None
        self._training_states: Optional[Dict[str, Any]] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = dict(capture_random_states(), world_size=get_world_size())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed_states = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner) -> None:
        states, self._resumed_states = self._resumed_states, None
        if states is None or (runner.epoch == 0 and runner.iter == 0):
            return
        randomness = runner.cfg.get('randomness') or {}
        if get_world_size() > 1 and randomness.get('diff_rank_seed', False):
            runner.logger.warning('random states not restored: with diff_rank_seed each rank has '
                                  'its own stream, and the checkpoint holds only rank 0\'s')
            return
        restore_random_states(states)
        runner.logger.info('random states of Python, NumPy and torch restored from the '
                           'checkpoint')

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_loop.dataloader
        if isinstance(loader, DataLoader):
            loader.generator = torch.Generator().manual_seed(
                (runner.seed + EPOCH_SEED_STRIDE * runner.epoch) % 2**63)

    def before_val_epoch(self, runner) -> None:
        self._training_states = capture_random_states()

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if self._training_states is not None:
            restore_random_states(self._training_states)
            self._training_states = None
