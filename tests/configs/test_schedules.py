"""The schedules give the intended learning rates."""
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


def test_cpu_demo_schedule_warms_up_per_iteration_then_decays():
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile('configs/_base_/schedules/cpu_demo.py')
    iters, epochs = 10, cfg.max_epochs
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        cls = PARAM_SCHEDULERS.get(s.pop('type'))
        if s.pop('convert_to_iter_based', False):
            schedulers.append(cls.build_iter_from_epoch(optimizer, epoch_length=iters, **s))
        else:
            schedulers.append(cls(optimizer, **s))
    rates = []
    for epoch in range(epochs):
        for _ in range(iters):
            rates.append(optimizer.param_groups[0]['lr'] / cfg.lr)
            for scheduler in schedulers:
                if not scheduler.by_epoch:
                    scheduler.step()
        for scheduler in schedulers:
            if scheduler.by_epoch:
                scheduler.step()
    assert rates[0] == pytest.approx(0.01)
    assert all(a < b for a, b in zip(rates[:iters - 1], rates[1:iters]))
    epoch_starts = rates[iters::iters]
    expected = [1 - 0.9 * e / (epochs - 2) for e in range(epochs - 1)]  # lr / 10 in the last
    assert epoch_starts == pytest.approx(expected, rel=1e-6)
