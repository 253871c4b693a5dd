"""A distributed data-parallel wrapper that also works for CPU training (gloo) and for models
with their own multi-optimiser ``train_step``."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODEL_WRAPPERS
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` for a model on the CPU and lets a
    model run its own training step.

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which PyTorch rejects for CPU
    modules; with this wrapper (the default of mmemtm's runtime configs) the same config trains on
    GPUs (nccl) and on CPU processes (gloo).

    mmengine's ``MMDistributedDataParallel.train_step`` replaces the model's: one forward, one
    ``update_params`` of one optimiser. A model whose step is different (several passes, each
    with its own optimiser of an ``OptimWrapperDict``, as
    :class:`~mmemtm.models.GenerativeFeatureDistiller`) defines
    ``wrapped_train_step(data, optim_wrapper, model)``; this wrapper calls it with itself as
    ``model``, and the model computes each pass's losses through ``model(**batch, mode='loss')``,
    so DDP averages the gradients of every pass over the processes (mmengine's
    ``MMSeparateDistributedDataParallel`` does the like for GANs by wrapping each part).

    Args:
        module: The model.
        device_ids: GPU of this process (ignored on CPU).
        **kwargs: Other arguments of ``MMDistributedDataParallel``.
    """

    def __init__(self, module: nn.Module, device_ids: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """The model's ``wrapped_train_step`` where it has one, else mmengine's step."""
        step = getattr(self.module, 'wrapped_train_step', None)
        if step is None:
            return super().train_step(data, optim_wrapper)
        return step(data, optim_wrapper, self)
