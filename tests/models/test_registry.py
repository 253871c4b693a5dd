"""Only what configs build by name is registered: every mmemtm class in mmaction's MODELS
registry is named somewhere a config or the code builds it by name (a registered class nobody
builds by name is registry noise)."""
import re
from pathlib import Path

from mmaction.registry import MODELS

import mmemtm  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


def _named_types() -> set:
    """Names given as ``type='Name'`` in configs and code, or as a string of their own in the
    code (e.g. the default head of each teacher output kind), ``__all__`` lists excepted."""
    names = set()
    for folder in ('configs', 'mmemtm', 'tools'):
        for path in (REPO / folder).rglob('*.py'):
            text = path.read_text()
            names.update(re.findall(r"type=['\"](?:mmaction\.)?(\w+)['\"]", text))
            if folder == 'mmemtm' and path.name != '__init__.py':
                names.update(re.findall(r"['\"](\w+)['\"]", text))
    return names


def test_every_registered_model_is_built_by_name():
    ours = {name for name, cls in MODELS.module_dict.items()
            if cls.__module__.startswith('mmemtm.')}
    assert len(ours) > 10
    unused = sorted(ours - _named_types())
    assert not unused, f'registered but never built by name: {unused}'
