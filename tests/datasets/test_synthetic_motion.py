import hashlib

import numpy as np
import pytest
from mmaction.registry import DATASETS

from mmemtm.datasets.synthetic_motion import (MOTION_CLASSES, SyntheticMotionConfig,
                                              SyntheticMotionError, _trajectory,
                                              generate_synthetic_motion, read_true_labels,
                                              split_records)

TINY = SyntheticMotionConfig(num_per_class=(('train', 1), ('val', 1), ('test', 1)), size=32,
                             num_frames=8, label_noise=0.5, seed=5)


def _digest(folder, manifest):
    return {r['filename']: hashlib.sha256((folder / r['filename']).read_bytes()).hexdigest()
            for records in manifest['splits'].values() for r in records}


def test_generation_is_deterministic_and_resumable(tmp_path):
    first = generate_synthetic_motion(str(tmp_path / 'a'), TINY)
    second = generate_synthetic_motion(str(tmp_path / 'b'), TINY)
    assert _digest(tmp_path / 'a', first) == _digest(tmp_path / 'b', second)
    clip = tmp_path / 'a' / first['splits']['val'][3]['filename']
    clip.unlink()
    generate_synthetic_motion(str(tmp_path / 'a'), TINY)
    assert _digest(tmp_path / 'a', first) == _digest(tmp_path / 'b', second)
    with pytest.raises(SyntheticMotionError, match='manifest.json'):
        generate_synthetic_motion(str(tmp_path / 'a'), SyntheticMotionConfig(seed=6))


def test_label_noise_only_in_train():
    cfg = SyntheticMotionConfig(num_per_class=(('train', 50), ('val', 5)), label_noise=0.3)
    train = split_records('train', cfg)
    wrong = np.mean([r['label'] != r['true_label'] for r in train])
    assert 0.22 < wrong < 0.38
    assert all(r['label'] == r['true_label'] for r in split_records('val', cfg))
    assert [r['true_label'] for r in train[:10]] == list(range(10))


def test_motion_classes_move_as_named():
    cfg = SyntheticMotionConfig(num_frames=16, size=64)
    rng = np.random.default_rng(0)
    moves = {name: _trajectory(i, rng, cfg) for i, name in enumerate(MOTION_CLASSES)}
    dx = {n: c[-1, 0] - c[0, 0] for n, (c, _) in moves.items()}
    dy = {n: c[-1, 1] - c[0, 1] for n, (c, _) in moves.items()}
    assert dx['right_fast'] > dx['right_slow'] > 5 and dx['left_fast'] < dx['left_slow'] < -5
    assert dy['up'] < -5 and dy['down'] > 5
    angles = {n: a[-1] - a[0] for n, (_, a) in moves.items()}
    assert angles['rotate_clockwise'] < -100 and angles['rotate_counterclockwise'] > 100
    centres = moves['oscillate_horizontal'][0][:, 0]
    assert np.ptp(centres) > 10 and abs(centres[8] - centres[0]) < 1e-6


def test_mmaction_video_dataset_reads_the_clips(tmp_path):
    manifest = generate_synthetic_motion(str(tmp_path), TINY)
    pipeline = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1,
                     test_mode=True),
                dict(type='DecordDecode'), dict(type='FormatShape', input_format='NCTHW'),
                dict(type='PackActionInputs', meta_keys=('img_shape', 'sample_idx'))]
    dataset = DATASETS.build(dict(type='VideoDataset', ann_file=str(tmp_path / 'train.txt'),
                                  data_prefix=dict(video=str(tmp_path)), pipeline=pipeline))
    assert len(dataset) == len(MOTION_CLASSES)
    item = dataset[3]
    assert tuple(item['inputs'].shape) == (1, 3, 8, 32, 32)
    assert item['data_samples'].metainfo['sample_idx'] == 3
    assert int(item['data_samples'].gt_label) == manifest['splits']['train'][3]['label']
    assert list(read_true_labels(str(tmp_path), 'train')) == list(range(10))
    assert (tmp_path / 'classes.txt').read_text().split() == list(MOTION_CLASSES)


def test_bad_settings_are_refused():
    with pytest.raises(SyntheticMotionError, match='label_noise'):
        SyntheticMotionConfig(label_noise=1.0)
    with pytest.raises(SyntheticMotionError, match='num_per_class'):
        SyntheticMotionConfig(num_per_class=(('training', 3), ))
