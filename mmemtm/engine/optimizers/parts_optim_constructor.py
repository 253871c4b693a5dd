"""One optimiser per part of a model (an ``OptimWrapperDict``), built from a config."""
from typing import Optional

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from .summary_optim_constructor import SummaryOptimWrapperConstructor


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PartsOptimWrapperConstructor:
    """Builds an ``OptimWrapperDict`` whose entry ``name`` optimises the submodule
    ``model.<name>`` with mmengine's ``DefaultOptimWrapperConstructor`` (as
    :class:`SummaryOptimWrapperConstructor`: one log line per part).

    Example (GKD)::

        optim_wrapper = dict(
            constructor='PartsOptimWrapperConstructor',
            student=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=1e-3, momentum=0.9,
                                                             weight_decay=5e-4)),
            cvae=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))

    Args:
        optim_wrapper_cfg: ``{part name: optim wrapper config}`` (each may have its own
            ``paramwise_cfg``).
        paramwise_cfg: Must be None (give it per part).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('PartsOptimWrapperConstructor: give paramwise_cfg inside each part')
        if not optim_wrapper_cfg or not all(isinstance(v, dict)
                                            for v in optim_wrapper_cfg.values()):
            raise ValueError('PartsOptimWrapperConstructor needs a dict part name -> optim '
                             f'wrapper config, got {optim_wrapper_cfg}')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            part = getattr(model, name, None)
            if not isinstance(part, nn.Module):
                raise KeyError(f'optim_wrapper part {name!r}: {type(model).__name__} has no '
                               f'submodule {name!r}')
            cfg = dict(cfg)
            paramwise = cfg.pop('paramwise_cfg', None)
            wrappers[name] = SummaryOptimWrapperConstructor(cfg, paramwise)(part)
        return OptimWrapperDict(**wrappers)
