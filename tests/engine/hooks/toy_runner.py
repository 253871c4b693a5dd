"""A tiny mmengine training (a linear model on 8 samples) for the engine hooks' tests."""
from typing import Callable, List, Optional

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner


class ToyModel(BaseModel):
    """``loss = mean((w x - y)^2)``, turned NaN from training iteration ``nan_from`` on."""

    def __init__(self, nan_from: Optional[int] = None) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.nan_from = nan_from
        self.calls = 0

    def forward(self, x, y, mode: str = 'tensor'):
        x, y = torch.stack(x), torch.stack(y)
        out = self.linear(x)
        if mode == 'loss':
            self.calls += 1
            loss = ((out - y) ** 2).mean()
            if self.nan_from is not None and self.calls >= self.nan_from:
                loss = loss * float('nan')
            return dict(loss=loss)
        return out


def toy_data() -> List[dict]:
    generator = torch.Generator().manual_seed(0)
    return [dict(x=torch.randn(2, generator=generator), y=torch.randn(1, generator=generator))
            for _ in range(8)]


def toy_runner(work_dir: str, model: Optional[ToyModel] = None, hooks: Optional[dict] = None,
               max_epochs: int = 2, **kwargs) -> Runner:
    """A runner that checkpoints every iteration (so a checkpoint would follow a bad step)."""
    default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
                         logger=dict(type='LoggerHook', interval=1))
    default_hooks.update(hooks or {})
    return Runner(
        model=model or ToyModel(), work_dir=work_dir,
        train_dataloader=dict(dataset=toy_data(), sampler=dict(type='DefaultSampler',
                                                               shuffle=False),
                              batch_size=2, collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs), default_hooks=default_hooks,
        default_scope='mmaction', **kwargs)


def run_quietly(build: Callable[[], Runner]) -> Runner:
    runner = build()
    runner.train()
    return runner
