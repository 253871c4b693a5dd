"""Stops training at the first non-finite loss, before a checkpoint of broken weights is saved."""
import math
from typing import Any, Optional, Sequence

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite; the message names the epoch, iteration and loss."""


def logged_float(value: Any) -> float:
    """A logged value as a float; a loss tensor still in the autograd graph is detached first
    (converting it directly makes torch warn about ``requires_grad``)."""
    return float(value.detach() if isinstance(value, torch.Tensor) else value)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when a logged loss of a training iteration is NaN or inf.

    Runs before :class:`mmengine.hooks.CheckpointHook` (priority ``ABOVE_NORMAL``), so the
    weights of the failing step are never saved and the last good checkpoint stays the newest.
    (The optimiser step of that iteration has already run: the weights in memory are lost.)

    Args:
        keys: Names of ``model.train_step``'s outputs to check; default every output whose name
            contains ``'loss'``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, keys: Optional[Sequence[str]] = None) -> None:
        self.keys = None if keys is None else tuple(keys)

    def _checked(self, outputs: dict) -> Sequence[str]:
        if self.keys is not None:
            return [k for k in self.keys if k in outputs]
        return [k for k in outputs if 'loss' in k]

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        values = {k: logged_float(outputs[k]) for k in self._checked(outputs)}
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            raise NonFiniteLossError(
                f'training stopped: non-finite loss at epoch {runner.epoch + 1}, iteration '
                f'{runner.iter + 1} (batch {batch_idx} of the epoch): {bad}. No checkpoint of '
                f'these weights was saved; the newest checkpoint in {runner.work_dir} is from '
                'before. Check the inputs of this batch (features, teacher curves), the '
                'learning rate, or use --amp with care.')
