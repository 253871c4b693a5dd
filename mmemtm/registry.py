"""The ``mmemtm`` scope: configs that inherit ``mmemtm::<config>``, and its registries.

mmemtm registers its components in MMAction2's registries, and its configs run in mmaction's
scope. For ``_base_ = ['mmemtm::teachers/seqpan_tacos.py']`` mmengine needs three things, the
ones every OpenMMLab package provides:

* ``mmemtm`` in ``mmengine.config.utils.MODULE2PACKAGE`` (it refuses other packages: "mmengine
  does not support to load mmemtm config"),
* the installed package's ``.mim/configs`` and ``.mim/model-index.yml`` (``setup.py`` copies
  them),
* registries of the scope ``mmemtm``: mmengine gives the variables of such a base config
  ``_scope_='mmemtm'``, and builds them with the registries of that scope. The registries below
  are children of mmaction's, so they find everything mmaction's registries hold (mmemtm's
  components included) instead of warning and falling back.

mmengine also insists on a folder in the path (``pkg::folder/config.py``), which mmemtm's
top-level configs do not have; :func:`register_config_scope` lets ``mmemtm::emtm_tacos.py`` through.
"""
import re
from typing import Callable, Tuple

import mmaction.registry as mmaction_registry
import mmengine.config.config as mmengine_config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import Registry

SCOPE = 'mmemtm'


def _child_registries() -> dict:
    """One registry of scope ``mmemtm`` under each of mmaction's registries, by variable name."""
    children = {}
    for name, parent in vars(mmaction_registry).items():
        if isinstance(parent, Registry) and parent.scope == 'mmaction':
            existing = parent._children.get(SCOPE)
            children[name] = existing or Registry(parent.name, parent=parent, scope=SCOPE,
                                                  locations=['mmemtm'])
    return children


globals().update(_child_registries())


def top_level_config_paths(resolve: Callable[[str], Tuple[str, str]]
                           ) -> Callable[[str], Tuple[str, str]]:
    """``resolve`` (mmengine's ``_get_package_and_cfg_path``), also for
    ``mmemtm::<config>.py`` without a folder."""
    if getattr(resolve, 'mmemtm_top_level', False):
        return resolve

    def package_and_cfg_path(cfg_path: str) -> Tuple[str, str]:
        match = re.fullmatch(rf'{SCOPE}::([\w.-]+\.py)', cfg_path)
        if match:
            return MODULE2PACKAGE[SCOPE], match.group(1)
        return resolve(cfg_path)

    package_and_cfg_path.mmemtm_top_level = True
    return package_and_cfg_path


def register_config_scope() -> None:
    """Let mmengine configs inherit ``mmemtm::<path>`` (safe to call more than once)."""
    MODULE2PACKAGE.setdefault(SCOPE, 'mmemtm')
    mmengine_config._get_package_and_cfg_path = top_level_config_paths(
        mmengine_config._get_package_and_cfg_path)


register_config_scope()
