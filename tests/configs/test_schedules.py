"""The EMTM schedule gives the reference's learning rates epoch by epoch."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import ConstantLR, LinearLR

SCHEDULERS = dict(ConstantLR=ConstantLR, LinearLR=LinearLR)


def learning_rates(cfg: Config, epochs: int) -> list:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.lr)
    schedulers = [SCHEDULERS[s['type']](optimizer, **{k: v for k, v in s.items() if k != 'type'})
                  for s in cfg.param_scheduler]
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]['lr'])
        for scheduler in schedulers:
            scheduler.step()
    return rates


def test_two_warm_up_epochs_then_linear_decay():
    cfg = Config.fromfile('configs/_base_/schedules/adamw_warmup_linear.py')
    epochs = cfg.max_epochs
    expected = [1e-6 if e < 2 else cfg.lr * (1 - e / epochs) for e in range(epochs)]
    assert learning_rates(cfg, epochs) == pytest.approx(expected, rel=1e-6)
