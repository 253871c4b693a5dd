"""ResultStore: results keyed by their settings, never reused across settings."""
import os

from mmemtm.benchmarks.store import ResultStore, file_digest, fingerprint


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
