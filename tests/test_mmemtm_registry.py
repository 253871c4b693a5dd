"""The ``mmemtm`` scope: configs inherit ``mmemtm::<config>`` as they inherit ``mmaction::...``,
and what mmengine builds in that scope comes from mmaction's registries, without warnings."""
import logging

import mmengine.config.utils as mmengine_config_utils
import pytest
from mmengine.config import Config

import mmemtm.registry
from mmaction.registry import MODELS, TRANSFORMS
from mmemtm.models import GroundingDataPreprocessor

pytestmark = pytest.mark.usefixtures('repo_root')


def without_scopes(node):
    """``node`` without the ``_scope_`` keys mmengine adds to the variables of a scoped base."""
    if isinstance(node, dict):
        return {k: without_scopes(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(without_scopes(v) for v in node)
    return node


def scopes(node) -> set:
    if isinstance(node, dict):
        return {node.get('_scope_')} | set().union(*map(scopes, node.values()))
    if isinstance(node, (list, tuple)):
        return set().union(set(), *map(scopes, node))
    return set()


@pytest.mark.parametrize('config', ['teachers/seqpan_tacos_demo.py', 'emtm_tacos_demo.py'])
def test_a_config_inherits_an_mmemtm_config(config, tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    user = tmp_path / 'my_config.py'
    user.write_text(f"_base_ = ['mmemtm::{config}']\n")
    inherited = Config.fromfile(str(user)).to_dict()
    direct = Config.fromfile(f'configs/{config}').to_dict()
    assert without_scopes(inherited) == without_scopes(direct)
    assert inherited['model']['_scope_'] == 'mmemtm'
    assert scopes(inherited) - scopes(direct) == {'mmemtm'}


def test_mmengine_alone_refuses_mmemtm_and_top_level_configs():
    """Why the scope module exists: mmengine knows only OpenMMLab's packages, and wants a folder
    in the path."""
    with pytest.raises(ValueError, match='specify the package name and relative config path'):
        mmengine_config_utils._get_package_and_cfg_path('mmemtm::emtm_tacos_demo.py')
    assert mmengine_config_utils.MODULE2PACKAGE['mmemtm'] == 'mmemtm'


def test_what_is_built_in_the_mmemtm_scope_comes_from_mmactions_registries(monkeypatch):
    import mmengine.logging
    logged = []
    monkeypatch.setattr(mmengine.logging, 'print_log',
                        lambda msg, *a, level=logging.INFO, **k: logged.append((level, msg)))
    model = MODELS.build(dict(type='GroundingDataPreprocessor', max_vlen=8, _scope_='mmemtm'))
    transform = TRANSFORMS.build(dict(type='DownsampleClips', max_vlen=8, _scope_='mmemtm'))
    assert isinstance(model, GroundingDataPreprocessor)
    assert type(transform).__name__ == 'DownsampleClips'
    # mmengine warns when a scope has no registry and falls back to another
    assert not [msg for level, msg in logged if level >= logging.WARNING]
    assert MODELS._search_child('mmemtm') is mmemtm.registry.MODELS
    assert mmemtm.registry.MODELS.parent is MODELS
