"""Checks of ``--cfg-options`` overrides before they reach the runner.

mmengine merges ``--cfg-options key=value`` into the config as they are: a value of the wrong
type fails much later with a message that names no key (``int('abc')`` deep inside a loop), and
a misspelt top-level key is silently ignored.
"""
import difflib
import numbers
import logging
from typing import Any, Dict, Mapping, Optional

from mmengine.logging import print_log


class ConfigOptionError(ValueError):
    """A ``--cfg-options`` value cannot replace the config's value; the message names the key."""


_MISSING = object()


def _lookup(cfg: Mapping, dotted: str) -> Any:
    node: Any = cfg
    for part in dotted.split('.'):
        if hasattr(node, 'keys') and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _converts(value: Any, like: Any) -> bool:
    """Whether ``value`` (from the command line) can stand where the config has ``like``."""
    if isinstance(like, bool):
        return isinstance(value, bool)
    if isinstance(like, numbers.Number):
        return isinstance(value, numbers.Number) and not isinstance(value, bool)
    return True


def check_cfg_options(cfg: Mapping, options: Dict[str, Any]) -> None:
    """Refuse ``options`` whose value cannot replace a number or boolean of ``cfg``; warn about
    top-level keys ``cfg`` does not have (with the closest existing names).

    Args:
        cfg: The config before the options are merged.
        options: ``{dotted.key: value}`` as parsed by mmengine's ``DictAction``.

    Raises:
        ConfigOptionError: naming the key, the value given and the config's value.
    """
    for key, value in options.items():
        current = _lookup(cfg, key)
        if current is _MISSING:
            top = key.split('.')[0]
            if top not in cfg:
                close = difflib.get_close_matches(top, list(cfg.keys()), n=3)
                print_log(f'--cfg-options {key}: the config has no key {top!r}; it is added but '
                          f'may be ignored (close names: {close or "none"})', logger='current',
                          level=logging.WARNING)
            continue
        if not _converts(value, current):
            raise ConfigOptionError(
                f'--cfg-options {key}={value!r}: the config has {type(current).__name__} '
                f'{current!r} there, and {value!r} is no {type(current).__name__}')


def merge_cfg_options(cfg: Any, options: Optional[Dict[str, Any]]) -> Any:
    """Check ``options`` (:func:`check_cfg_options`), then merge them into the mmengine config
    ``cfg``; returns ``cfg``."""
    if options:
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)
    return cfg
