"""mmemtm: efficient temporal sentence grounding (EMTM) as an MMAction2 plugin.

Importing the package first applies the compatibility fixes of :mod:`mmemtm.compat`, then
registers every component in ``mmaction.registry`` (and the ``mmemtm::`` config scope,
:mod:`mmemtm.registry`).
"""
from .compat import apply_compat_fixes

apply_compat_fixes()

from . import apis, datasets, engine, evaluation, models, registry  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'apply_compat_fixes']
