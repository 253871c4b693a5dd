"""A distributed data-parallel wrapper that also works for CPU training (gloo)."""
from typing import Optional, Sequence

import torch.nn as nn
from mmaction.registry import MODEL_WRAPPERS
from mmengine.model import MMDistributedDataParallel


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` for a model on the CPU.

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which PyTorch rejects for CPU
    modules; with this wrapper (the default of mmemtm's runtime config) the same config trains on
    GPUs (nccl) and on CPU processes (gloo).

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
