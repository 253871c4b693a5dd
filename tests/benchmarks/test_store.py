"""ResultStore: results keyed by their settings, never reused across settings."""
import json
import os

from mmengine.config import Config

from mmemtm.benchmarks.store import ResultStore, config_text, file_digest, fingerprint


def test_results_are_found_by_exactly_their_settings(tmp_path):
    store = ResultStore(str(tmp_path / 'results'))
    settings = dict(row='student alone', seed=0, epochs=12, inputs={'a.json': 'x'})
    assert store.get('student alone', settings) is None
    store.put('student alone', settings, dict(score=1.5))
    assert store.get('student alone', dict(reversed(list(settings.items())))) == dict(score=1.5)
    for changed in (dict(settings, seed=1), dict(settings, epochs=6),
                    dict(settings, inputs={'a.json': 'y'})):
        assert store.get('student alone', changed) is None
    assert store.get('other row', settings) is None
    assert [e['settings'] for e in store.entries()] == [settings]


def test_file_digest_follows_the_content(tmp_path):
    path = tmp_path / 'curves.npz'
    path.write_bytes(b'one')
    first = file_digest(str(path))
    path.write_bytes(b'two')
    os.utime(path, ns=(1, 1))
    assert file_digest(str(path)) != first
    assert fingerprint({'a': 1, 'b': 2}) == fingerprint({'b': 2, 'a': 1})


def test_config_text_ignores_only_what_grounding_a_raw_video_reads():
    """Naming a config's feature extractor or its long-video windows changes no training or
    test on stored features, so runs stored before those fields existed keep their keys."""
    base = dict(model=dict(type='EMTM', drop_rate=0.1), work_dir='a', test_evaluator=dict(type='M'))
    text = config_text(Config(base))
    raw_video = dict(base, feature_backbone='clip-vit-l-14', long_video=dict(window=30.6))
    assert config_text(Config(raw_video)) == text
    assert config_text(Config(dict(base, work_dir='b'))) == text
    assert config_text(Config(dict(base, model=dict(type='EMTM', drop_rate=0.4)))) != text
    assert config_text(Config(dict(base, max_vlen=64))) != text


def test_a_run_is_found_under_another_row_name_or_config_file_but_nothing_else(tmp_path):
    """Renaming a row or moving its config to another file (same resolved config) finds the
    runs already made; a result derived from a run is found only as that kind of result."""
    store = ResultStore(str(tmp_path / 'results'))
    old = dict(row='EMTM (default)', config='configs/a.py', config_text='{}', seed=0)
    store.put('EMTM (default)', old, dict(score=40.1))
    store.put('mixtures of EMTM (default)', old, dict(mixture=35.6))
    new = dict(old, row='KAU fitted out of fold', config='configs/ablations/b.py')
    assert store.get('KAU fitted out of fold', new) is None
    assert store.find('KAU fitted out of fold', new) == dict(score=40.1)
    assert store.find('mixtures of KAU fitted out of fold', new) == dict(mixture=35.6)
    assert store.find('encoder gradients of KAU fitted out of fold', new) is None
    for changed in (dict(new, seed=1), dict(new, config_text='{"a": 1}')):
        assert store.find('KAU fitted out of fold', changed) is None


def test_a_config_restating_its_pipeline_variables_finds_the_run_but_not_a_changed_pipeline(
        tmp_path):
    """A config that lists fewer teachers' curve files in its own pipeline variables resolves to
    the run made by overriding the pipeline of one that lists more; a changed pipeline does not."""
    def text(variable_files, pipeline_files):
        return json.dumps(dict(
            teacher_curves=variable_files, curve_root='curves/',
            train_pipeline=[dict(type='LoadTeacherCurves', files=variable_files)],
            train_dataloader=dict(dataset=dict(pipeline=[
                dict(type='LoadTeacherCurves', files=pipeline_files)]))), sort_keys=True)

    store = ResultStore(str(tmp_path / 'results'))
    three, two = ['a.npz', 'b.npz', 'c.npz'], ['b.npz', 'c.npz']
    overridden = dict(row='KD', config='configs/three.py', config_text=text(three, two), seed=0)
    store.put('KD', overridden, dict(score=44.4))
    restated = dict(overridden, row='KD (default)', config='configs/default.py',
                    config_text=text(two, two))
    assert store.get('KD (default)', restated) is None
    assert store.find('KD (default)', restated) == dict(score=44.4)
    assert store.find('KD (default)', dict(restated, config_text=text(two, three))) is None
