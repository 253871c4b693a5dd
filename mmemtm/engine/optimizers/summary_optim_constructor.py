"""mmengine's default optimiser constructor, logging one summary line instead of one per tensor."""
import logging
import re
from collections import defaultdict
from typing import Dict, List

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

OPTION_LINE = re.compile(r'paramwise_options -- (?P<name>\S+):(?P<option>\S+=\S+)$')
FROZEN_LINE = re.compile(r'(?P<name>\S+) is skipped since its requires_grad=False$')


class ParamLogCollector(logging.Filter):
    """Takes mmengine's per-tensor messages of optimiser construction out of a logger and keeps
    what they said: the tensors of each paramwise option, and the frozen tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.options: Dict[str, List[str]] = defaultdict(list)
        self.frozen: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        option, frozen = OPTION_LINE.match(message), FROZEN_LINE.match(message)
        if option:
            self.options[option['option']].append(option['name'])
        elif frozen:
            self.frozen.append(frozen['name'])
        return not (option or frozen)

    def summary(self) -> str:
        """One line: each option with its number of tensors, and the frozen tensors."""
        parts = [f'{option} on {len(names)} tensor(s) (e.g. {names[0]})'
                 for option, names in self.options.items()]
        if self.frozen:
            shown = ', '.join(self.frozen[:3]) + (' ...' if len(self.frozen) > 3 else '')
            parts.append(f'{len(self.frozen)} frozen tensor(s) not optimised '
                         f'(requires_grad=False: {shown})')
        return 'optimizer parameter groups: ' + '; '.join(parts)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
@OPTIM_WRAPPER_CONSTRUCTORS.register_module(name='DefaultOptimWrapperConstructor')
class SummaryOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's ``DefaultOptimWrapperConstructor`` (the same parameter groups), logging one line.

    With a ``paramwise_cfg`` mmengine logs a line per parameter tensor and option
    (``paramwise_options -- encoder...bias:weight_decay=0.0``: 97 lines for EMTM) and a warning
    per frozen tensor (``... is skipped since its requires_grad=False``: the frozen GloVe table,
    frozen on purpose). This constructor logs one INFO line that counts them instead. It is
    registered in mmaction's scope under mmengine's name too, so configs without a
    ``constructor`` (mmengine's default) use it.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        logger = MMLogger.get_current_instance()
        collector = ParamLogCollector()
        logger.addFilter(collector)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(collector)
        if collector.options or collector.frozen:
            print_log(collector.summary(), logger=logger)
        return wrapper
