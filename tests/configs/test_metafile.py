"""model-index.yml and the metafiles: ``mim search mmemtm`` lists every model with its measured
numbers, each labelled with the kind of features they were measured on."""
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def metafile_models() -> list:
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    return [model for path in index['Import']
            for model in yaml.safe_load((REPO / path).read_text())['Models']]


def test_every_model_names_an_existing_config_and_labels_its_features():
    models = metafile_models()
    assert len({m['Name'] for m in models}) == len(models) >= 19
    for model in models:
        assert (REPO / model['Config']).is_file(), model['Config']
        features = model['Metadata']['Features']
        assert features in ('real', 'synthetic'), model['Name']
        for result in model['Results']:
            assert features in result['Dataset'].lower(), (model['Name'], result['Dataset'])
            assert all(isinstance(v, (int, float)) for v in result['Metrics'].values())


def test_the_installed_layout_links_the_metafiles():
    """The source tree's ``mmemtm/.mim`` is what a develop install makes; setup.py copies the
    same entries into an installed package."""
    mim = REPO / 'mmemtm' / '.mim'
    for entry in ('configs', 'tools', 'model-index.yml'):
        assert (mim / entry).resolve() == (REPO / entry).resolve()


def test_mim_search_lists_the_models_with_their_numbers(monkeypatch):
    search = pytest.importorskip('mim.commands.search')
    monkeypatch.chdir(REPO)
    found = search.get_model_info('mmemtm', to_dict=True)
    assert set(found) == {m['Name'] for m in metafile_models()}
    emtm = found['emtm_charades_clip']
    assert emtm['features'] == 'real' and emtm['config'] == 'configs/emtm_charades_clip.py'
    for model in metafile_models():  # every result as mim reads it
        for result in model['Results']:
            for metric, value in result['Metrics'].items():
                key = f"{result['Dataset']}/{metric.replace(' ', '_')}".lower()
                assert found[model['Name']][key] == value, (model['Name'], key)
    assert found['staged_kd_synthetic_motion']['features'] == 'synthetic'
