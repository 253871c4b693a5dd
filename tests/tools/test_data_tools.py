"""The data preparation tools: planted features and GloVe subsets."""
import json

import numpy as np

from mmemtm.text import load_word_vocabulary


def test_generate_planted_features_cli(tmp_path, demo_root, run_tool):
    out = tmp_path / 'planted'
    run_tool(['tools/data/generate_planted_features.py', '--ann', str(demo_root / 'val.json'),
              '--glove', str(demo_root / 'glove'), '--out', str(out), '--dim', '32',
              '--noise', '0.5', '--dtype', 'float16'])
    shapes = json.loads((out / 'feature_shapes.json').read_text())
    assert len(shapes) == 2
    video, n = next(iter(shapes.items()))
    feats = np.load(out / f'{video}.npy')
    assert feats.shape == (n, 32) and feats.dtype == np.float16
    assert json.loads((out / 'planted_meta.json').read_text())['noise'] == 0.5


def test_build_glove_subset_orders_by_frequency(tmp_path, run_tool):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps([['v', 10.0, [1, 2], 'a pan and a knife'],
                               ['v', 10.0, [3, 4], 'a zzqx pan']]))
    glove = tmp_path / 'glove.txt'
    glove.write_text('knife 1 0\npan 0 1\na 1 1\nunused 2 2\nand 3 3\n')
    run_tool(['tools/data/build_glove_subset.py', '--glove', str(glove), '--ann', str(ann),
              '--out', str(tmp_path / 'subset')])
    vocab = load_word_vocabulary(str(tmp_path / 'subset'))
    assert vocab.itos[2:] == ['a', 'pan', 'and', 'knife']
    np.testing.assert_array_equal(vocab.vectors[vocab.stoi['pan']], [0, 1])


def test_planted_features_never_write_outside_the_output_folder(tmp_path, repo_root, run_tool):
    marker = tmp_path / 'x' / 'evil'
    out = tmp_path / 'a' / 'b' / 'out'
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps([['v1', 30.0, [2.0, 9.0], 'a man opens the door.'],
                               ['../../../x/evil', 30.0, [2.0, 9.0], 'he takes out a pan.']]))
    proc = run_tool(
        ['tools/data/generate_planted_features.py', '--ann', str(ann), '--glove',
         str(repo_root / 'demo' / 'data' / 'tacos_subset' / 'glove'), '--out', str(out),
         '--dim', '8'], check=False)
    assert proc.returncode != 0
    assert "record 1: video id '../../../x/evil' is not a plain file name" in proc.stderr
    assert not marker.with_suffix('.npy').exists() and not (tmp_path / 'x').exists()
    assert not out.exists() or not any(out.iterdir())
