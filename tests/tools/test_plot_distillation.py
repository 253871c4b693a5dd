"""tools/visualization/plot_distillation.py draws what EMTM distils for training queries.

Not marked slow: its cost is the shared ``tiny_emtm`` fixture, which the slow EMTM training test
builds early in the run; collected among the quick files, these tests find it built instead of
waiting for it on the other worker."""
import json

from PIL import Image


def test_plot_two_queries(tmp_path, tiny_emtm, tiny_planted, run_tool):
    records = json.loads((tiny_planted / 'train.json').read_text())
    video = records[0][0]
    ids = [f'{video}#0', f'{video}#1']
    proc = run_tool(['tools/visualization/plot_distillation.py', tiny_emtm['config'],
                     tiny_emtm['checkpoint'], '--query-id', *ids, '--out-dir', str(tmp_path),
                     '--cfg-options', *tiny_emtm['options']])
    for query_id in ids:
        path = tmp_path / f'{query_id.replace("#", "_")}.png'
        assert str(path) in proc.stdout
        with Image.open(path) as image:
            assert image.size[0] > 800 and image.size[1] > 700


def test_unknown_query_is_named(tmp_path, tiny_emtm, run_tool):
    proc = run_tool(['tools/visualization/plot_distillation.py', tiny_emtm['config'],
                     tiny_emtm['checkpoint'], '--query-id', 'nope#3', '--out-dir', str(tmp_path),
                     '--cfg-options', *tiny_emtm['options']], check=False)
    assert proc.returncode != 0 and "queries ['nope#3'] are not in the train split" in proc.stderr
