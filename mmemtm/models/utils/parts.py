"""Building a model's parts from nested configs, with the facts they share stated once."""
import functools
import inspect
from typing import Any, Callable, Mapping, Optional, Type, TypeVar

import torch.nn as nn
from mmaction.registry import MODELS

ModelClass = TypeVar('ModelClass', bound=Type[nn.Module])


def build_part(cfg: Mapping[str, Any], shared: Mapping[str, Any], where: str,
               default_args: Optional[Mapping[str, Any]] = None) -> nn.Module:
    """Build the part ``cfg`` (a ``MODELS`` config), filling in the ``shared`` facts its
    constructor accepts and the config leaves unset (missing or None).

    A shared fact (e.g. ``max_vlen``, ``dim``) is stated once on the model and propagated to
    every part that takes it; a part that sets it to another value is an error.

    Args:
        cfg: Config of the part (``type`` and its own arguments).
        shared: The model's shared facts, e.g. ``dict(dim=128, max_vlen=64)``.
        where: Name of the part in the model's config, for messages (``'aggregator'``).
        default_args: Further arguments filled in when missing (not checked).

    Raises:
        ValueError: The part sets a shared fact to another value (naming both).
    """
    cfg = dict(cfg)
    part = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) else cfg['type']
    if part is None:
        raise KeyError(f'{where}: {cfg["type"]!r} is not in the mmaction::model registry')
    accepted = inspect.signature(part.__init__).parameters
    for key, value in shared.items():
        if key not in accepted:
            continue
        if cfg.get(key) is not None and cfg[key] != value:
            raise ValueError(f"{where}.{key}={cfg[key]!r} differs from the model's "
                             f'{key}={value!r}')
        cfg[key] = value
    for key, value in (default_args or {}).items():
        cfg.setdefault(key, value)
    return MODELS.build(cfg)


def with_max_vlen(data_preprocessor: Optional[Mapping[str, Any]], max_vlen: int
                  ) -> Optional[dict]:
    """A data preprocessor config with the model's ``max_vlen`` filled in (None stays None).

    Raises:
        ValueError: The config sets another ``max_vlen`` (videos must be padded to the model's
            clip grid).
    """
    if data_preprocessor is None:
        return None
    cfg = dict(data_preprocessor)
    if cfg.get('max_vlen') is not None and cfg['max_vlen'] != max_vlen:
        raise ValueError(f"data_preprocessor.max_vlen={cfg['max_vlen']} differs from the "
                         f"model's max_vlen={max_vlen}: videos must be padded to the model's "
                         'grid')
    cfg['max_vlen'] = max_vlen
    return cfg


def refuse_moved_arguments(moved: Mapping[str, str]) -> Callable[[ModelClass], ModelClass]:
    """Class decorator: an argument of the flat constructor that moved into a part's nested
    config (``moved``: old name -> where it is now) raises a TypeError that says where, instead
    of Python's "unexpected keyword argument". Old configs thus fail with what changed.

    The constructor's signature is kept (``inspect.signature`` follows ``__wrapped__``).
    """

    def decorate(cls: ModelClass) -> ModelClass:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            old = [key for key in kwargs if key in moved]
            if old:
                where = '; '.join(f'{key} -> {moved[key]}' for key in old)
                raise TypeError(f'{cls.__name__}: the flat arguments {old} moved into the '
                                f'nested part configs ({where}); see configs/_base_/models/ '
                                'for the layout. Checkpoints trained with the flat '
                                'constructor load unchanged')
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        return cls

    return decorate
