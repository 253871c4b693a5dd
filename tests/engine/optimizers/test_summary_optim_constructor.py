"""SummaryOptimWrapperConstructor: mmengine's parameter groups, one log line instead of one per
tensor and option (and a warning per frozen tensor)."""
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmemtm.engine import PartsOptimWrapperConstructor
from mmemtm.engine.optimizers import SummaryOptimWrapperConstructor

OPTIM = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
PARAMWISE = dict(norm_decay_mult=0.0, bias_decay_mult=0.0)


class Net(nn.Module):
    """A frozen embedding table (as EMTM's GloVe), a linear layer and a LayerNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Embedding(5, 4).requires_grad_(False)
        self.linear = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)


class Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


@pytest.fixture
def logged():
    logger = MMLogger.get_current_instance()
    handler = Logged()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def groups(wrapper) -> list:
    return [({k: v for k, v in g.items() if k != 'params'}, [p.shape for p in g['params']])
            for g in wrapper.optimizer.param_groups]


def test_mmengine_logs_a_line_per_tensor_and_warns_for_frozen_ones(logged):
    """Why the constructor exists."""
    DefaultOptimWrapperConstructor(dict(OPTIM), PARAMWISE)(Net())
    assert sum('paramwise_options' in msg for _, msg in logged) == 3
    assert (logging.WARNING, 'table.weight is skipped since its requires_grad=False') in logged


def test_the_same_groups_with_one_summary_line(logged):
    torch.manual_seed(0)
    net = Net()
    expected = groups(DefaultOptimWrapperConstructor(dict(OPTIM), PARAMWISE)(net))
    logged.clear()
    assert groups(SummaryOptimWrapperConstructor(dict(OPTIM), PARAMWISE)(net)) == expected
    assert logged == [(logging.INFO, 'optimizer parameter groups: weight_decay=0.0 on 3 '
                       'tensor(s) (e.g. linear.bias); 1 frozen tensor(s) not optimised '
                       '(requires_grad=False: table.weight)')]


def test_it_is_the_default_constructor_of_mmactions_scope(logged):
    built = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type='DefaultOptimWrapperConstructor',
                                                  optim_wrapper_cfg=dict(OPTIM)))
    assert type(built) is SummaryOptimWrapperConstructor
    built(Net())  # no paramwise_cfg: mmengine logs nothing per tensor, nor does this
    assert logged == []


def test_the_parts_constructor_summarises_each_part(logged):
    model = nn.Module()
    model.student, model.head = Net(), Net()
    PartsOptimWrapperConstructor(dict(student=dict(OPTIM, paramwise_cfg=PARAMWISE),
                                      head=dict(OPTIM)))(model)
    assert not [msg for _, msg in logged if 'paramwise_options' in msg or 'skipped' in msg]
    assert len(logged) == 1  # the part with a paramwise_cfg
