"""docs/your_own_dataset.md, followed command by command on a tiny data set.

The commands of the page's ``bash`` blocks are run in their order, as written, in this process
(the environment variables of a command set, ``*`` patterns expanded, the tool run as
``__main__``), with three changes: the data folder, GloVe file and work dir are temporary ones,
the feature extraction loads a small random CLIP (``--clip-model``, no download) and training
and testing get ``--cfg-options`` for a short CPU run (2 epochs, no worker processes).

The data set: real Charades-STA sentences (their times and durations from the re-split CLIP set
in ``../shared/data/charades_sta/clip_vitl14_vidmorp``) of 6 train, 2 val and 2 test videos, in a
CSV with ``duration`` and ``split`` columns; ``videos/`` holds the one bundled real video,
``3MSZA``. The extraction command runs on it (random CLIP: 16-d features), then the folder gets
the stored real CLIP ViT-L/14 features of the ten videos (their videos are not available), on
which the student is trained and tested.
"""
import csv
import glob
import json
import re
import runpy
import shlex
import shutil
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from mmemtm.datasets import NpyFeatureStore

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / 'docs' / 'your_own_dataset.md'
CLIP_SET = Path('charades_sta') / 'clip_vitl14_vidmorp'
GLOVE_SUBSET = Path('glove_subsets') / 'charades_glove6B_drn'
#: Videos of each split of the tiny data set (the first ones of the real CLIP set's splits).
SPLIT_VIDEOS = dict(train=6, val=2, test=2)
FAST = dict(
    train=['train_cfg.max_epochs=2'] + [
        f'{split}_dataloader.{key}' for split in ('train', 'val')
        for key in ('num_workers=0', 'persistent_workers=False')],
    test=['test_dataloader.num_workers=0'])


def doc_commands(text: str) -> List[str]:
    """The commands of the ``bash`` blocks of a Markdown page, continuation lines joined."""
    blocks = re.findall(r'^```bash\n(.*?)^```', text, flags=re.M | re.S)
    return [command for block in blocks
            for command in block.replace('\\\n', ' ').splitlines() if command.strip()]


def tiny_data_set(shared_data: Path, root: Path) -> List[str]:
    """Write ``root/{videos,sentences.csv}``; returns the video ids of the CSV."""
    (root / 'videos').mkdir(parents=True)
    (root / 'videos' / '3MSZA.mp4').symlink_to(shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    rows = []
    for split, count in SPLIT_VIDEOS.items():
        records = json.loads((shared_data / CLIP_SET / f'{split}.json').read_text())
        videos = list(dict.fromkeys(r[0] for r in records))[:count]
        rows += [[vid, start, end, sentence, duration, split]
                 for vid, duration, (start, end), sentence in records if vid in videos]
    with open(root / 'sentences.csv', 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['video', 'start', 'end', 'sentence', 'duration', 'split'])
        writer.writerows(rows)
    return list(dict.fromkeys(row[0] for row in rows))


def glove_text(shared_data: Path, path: Path) -> Path:
    """A GloVe text file (``word v1 ... v300`` lines) of the words of a real Charades subset."""
    subset = shared_data / GLOVE_SUBSET
    word2id = json.loads((subset / 'word2id.json').read_text())
    vectors = np.load(subset / 'embeds.npy')
    path.write_text(''.join(
        word + ' ' + ' '.join(f'{v:.5f}' for v in vectors[i]) + '\n'
        for word, i in word2id.items()), encoding='utf-8')
    return path


def use_stored_features(shared_data: Path, folder: Path, videos: List[str]) -> None:
    """Replace the extracted features by the stored real CLIP ViT-L/14 ones of ``videos``."""
    for vid in videos:
        shutil.copyfile(shared_data / CLIP_SET / 'features' / f'{vid}.npy', folder / f'{vid}.npy')
    (folder / 'feature_shapes.json').write_text(json.dumps({vid: 64 for vid in videos}))


def adapt(command: str, paths: Dict[str, Path], clip: Path) -> str:
    """The page's command with the test's paths and speed options."""
    for name, path in paths.items():
        command = command.replace(name, str(path))
    if 'tools/extract_features.py' in command:
        command += f' --clip-model {clip}'
    for tool, options in FAST.items():
        if f'tools/{tool}.py' in command:
            command += ' --cfg-options ' + ' '.join(options)
    return command


def run(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``[VAR=value ...] python TOOL ARGS`` in this process: the variables set, ``*``
    patterns expanded as a shell would, the tool run as ``__main__``; fail on a non-zero exit."""
    words = shlex.split(command)
    while '=' in words[0]:
        monkeypatch.setenv(*words.pop(0).split('=', 1))
    assert words[0] == 'python', command
    args = [arg for word in words[2:] for arg in (sorted(glob.glob(word)) or [word]
                                                  if '*' in word else [word])]
    monkeypatch.setattr(sys, 'argv', [words[1], *args])
    try:
        runpy.run_path(words[1], run_name='__main__')
    except SystemExit as exc:
        if exc.code not in (0, None):
            pytest.fail(f'`{command}` exited with {exc.code}')


def test_the_page_lists_the_steps_in_order():
    tools = [re.search(r'tools/[\w/]+\.py', c).group(0) for c in doc_commands(DOC.read_text())]
    assert tools == ['tools/extract_features.py', 'tools/data/build_glove_subset.py',
                     'tools/train.py', 'tools/test.py']


def test_videos_and_csv_to_a_tested_model(shared_data, tmp_path, monkeypatch):
    pytest.importorskip('transformers')
    sys.path.insert(0, str(REPO_ROOT / 'tests' / 'apis'))
    from test_clip_frame_features import EMBED_DIM, save_tiny_clip
    root, work = tmp_path / 'my_dataset', tmp_path / 'work'
    videos = tiny_data_set(shared_data, root)
    paths = {'data/my_dataset': root, 'work_dirs/my_dataset': work,
             'data/glove/glove.840B.300d.txt': glove_text(shared_data, tmp_path / 'glove.txt')}
    save_tiny_clip(tmp_path / 'clip')
    features = root / 'features' / 'clip_vitl14'
    monkeypatch.chdir(REPO_ROOT)
    for command in doc_commands(DOC.read_text()):
        tool = re.search(r'tools/[\w/]+\.py', command).group(0)
        run(adapt(command, paths, tmp_path / 'clip'), monkeypatch)
        if tool == 'tools/extract_features.py':
            assert NpyFeatureStore(str(features)).load_checked('3MSZA', EMBED_DIM).shape == (
                64, EMBED_DIM)
            use_stored_features(shared_data, features, videos)

    words = json.loads((root / 'glove' / 'word2id.json').read_text())
    assert {'person', 'light', 'switch'} <= set(words)
    checkpoints = list(work.glob('best_R1@0.5_epoch_*.pth'))
    assert len(checkpoints) == 1, sorted(p.name for p in work.iterdir())
    predictions = json.loads((work / 'test' / 'predictions.json').read_text())
    test_csv = [row for row in csv.DictReader(open(root / 'sentences.csv', encoding='utf-8'))
                if row['split'] == 'test']
    assert [p['sentence'] for p in predictions] == [row['sentence'] for row in test_csv]
    assert predictions[0]['query_id'] == '3MSZA#0' and predictions[0]['gt'] == [24.3, 30.4]
    for p in predictions:
        assert all(0 <= s < e <= p['duration'] for s, e in p['pred_moments'])
    log = next((work / 'test').glob('*/*.log')).read_text()
    metrics = re.search(r'R1@0\.5: ([\d.]+).*mIoU: ([\d.]+)', log)
    assert metrics and all(0 <= float(v) <= 100 for v in metrics.groups())
