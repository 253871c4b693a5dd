"""Count a model's parameters per part: ``python tools/analysis/count_parameters.py CONFIG``.

Trainable parameters are counted without frozen ones (the GloVe table); a model with a
``parameter_groups()`` method (EMTM) is broken down into its inference-time student and its
training-only parts, any other model into its top-level modules.
"""
import argparse
from typing import Dict, Iterable, List

import mmemtm  # noqa: F401
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmemtm.utils.config_options import merge_cfg_options


def count(modules: Iterable[nn.Module]) -> Dict[str, int]:
    """Trainable and frozen parameter counts of ``modules`` (shared parameters once)."""
    seen, trainable, frozen = set(), 0, 0
    for module in modules:
        for p in module.parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            if p.requires_grad:
                trainable += p.numel()
            else:
                frozen += p.numel()
    return dict(trainable=trainable, frozen=frozen)


def parameter_table(model: nn.Module) -> List[tuple]:
    """Rows ``(part, trainable, frozen)`` and a total row."""
    if hasattr(model, 'parameter_groups'):
        groups = model.parameter_groups()
    else:
        groups = {name: [child] for name, child in model.named_children()
                  if name != 'data_preprocessor'}
    rows = [(name, *count(modules).values()) for name, modules in groups.items()]
    rows.append(('total', *count([model]).values()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description='Count model parameters per part')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    print(f'{"part":<24} {"trainable":>12} {"frozen":>12}')
    for name, trainable, frozen in parameter_table(model):
        print(f'{name:<24} {trainable:>12,d} {frozen:>12,d}')


if __name__ == '__main__':
    main()
