"""The weakly-supervised configs: their training batches carry no timestamp-derived target,
every model receives the streams it states, and the distilled student receives the appearance
stream alone outside training."""
import copy
import functools
import json
from pathlib import Path

import numpy as np
import pytest
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmemtm  # noqa: F401  (registers the transforms and models)
from mmemtm.models.grounders import TIMESTAMP_FIELDS, TimestampLeakError

REPO = Path(__file__).parents[2]
WEAK = sorted(str(p.relative_to(REPO)) for p in (REPO / 'configs' / 'weakly_supervised').glob(
    '*.py'))
DEMO_GLOVE = str(REPO / 'demo' / 'data' / 'tacos_subset' / 'glove')
STUDENT = 'configs/weakly_supervised/lgd_student_charades_clip.py'


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Config:
    return Config.fromfile(str(REPO / path))


def load(path: str) -> Config:
    """The resolved config (parsed once per session; a copy the caller may change)."""
    return copy.deepcopy(_load(path))


def streams_of(pipeline) -> list:
    step = next(t for t in pipeline if t['type'] == 'LoadFeatureStreams')
    return [s['name'] for s in step['streams']]


def test_every_weak_config_is_found():
    assert len(WEAK) >= 9


@pytest.mark.parametrize('path', WEAK)
def test_train_pipelines_build_no_target_and_pack_no_timestamp(path):
    cfg = load(path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert not any(t['type'] == 'BuildGroundingTargets' for t in pipeline)
    pack = next(t for t in pipeline if t['type'] == 'PackGroundingInputs')
    assert 'timestamp' not in pack['meta_keys'] and 'streams' in pack['meta_keys']
    test_pack = next(t for t in cfg.test_dataloader.dataset.pipeline
                     if t['type'] == 'PackGroundingInputs')
    assert 'timestamp' in test_pack['meta_keys']  # the metric needs it


@pytest.mark.parametrize('path', WEAK)
def test_each_model_states_the_streams_its_pipelines_load(path):
    cfg = load(path)
    model = cfg.model
    train_streams = model.get('teacher_streams') or model.input_streams
    assert streams_of(cfg.train_dataloader.dataset.pipeline) == list(train_streams)
    for split in ('val', 'test'):
        assert streams_of(cfg[f'{split}_dataloader'].dataset.pipeline) == list(
            model.input_streams)


@pytest.mark.parametrize('path', [STUDENT, 'configs/weakly_supervised/'
                                  'lgd_student_from_appearance_x2_charades_clip.py',
                                  'configs/weakly_supervised/weak_student_charades_clip.py'])
def test_the_student_receives_the_appearance_stream_alone(path):
    cfg = load(path)
    assert list(cfg.model.input_streams) == ['appearance']
    assert cfg.model.video_dim == cfg.feature_dim
    for split in ('val', 'test'):
        assert streams_of(cfg[f'{split}_dataloader'].dataset.pipeline) == ['appearance']


@pytest.fixture
def tiny_data(tmp_path):
    """Two videos of two aligned streams ([6, 768]) and four queries (JSON list format)."""
    rng = np.random.default_rng(0)
    folders = {}
    for name in ('appearance', 'motion'):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for video in ('v1', 'v2'):
            np.save(folders[name] / f'{video}.npy', rng.normal(size=(6, 768)).astype(np.float16))
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([['v1', 12.0, [1.0, 4.0], 'the person cuts the cucumber'],
                               ['v1', 12.0, [5.0, 9.0], 'the person washes the plate'],
                               ['v2', 20.0, [0.0, 6.0], 'the person takes out a knife'],
                               ['v2', 20.0, [8.0, 19.0], 'the person peels the orange']]))
    return str(ann), {k: str(v) for k, v in folders.items()}


def training_batch(cfg: Config, ann: str, folders: dict, extra_steps=()) -> dict:
    """The config's train pipeline on ``tiny_data``, collated (every query)."""
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    pipeline = []
    for step in dataset_cfg.pipeline:
        step = dict(step)
        if step['type'] == 'LoadFeatureStreams':
            step['streams'] = [dict(s, path=folders[s['name']]) for s in step['streams']]
        if step['type'] == 'TokenizeQuery':
            step['vocab'] = DEMO_GLOVE
        if step['type'] == 'PackGroundingInputs':
            pipeline.extend(extra_steps)
        pipeline.append(step)
    dataset = DATASETS.build(dict(dataset_cfg, ann_file=ann, pipeline=pipeline,
                                  data_prefix=dict(features=folders['appearance'])))
    return pseudo_collate([dataset[i] for i in range(len(dataset))])


@pytest.mark.parametrize('path', ['configs/weakly_supervised/weak_student_charades_clip.py',
                                  'configs/weakly_supervised/mutual_teacher_charades_clip.py',
                                  STUDENT])
def test_no_timestamp_derived_target_reaches_a_weak_training_batch(path, tiny_data):
    ann, folders = tiny_data
    cfg = load(path)
    data = training_batch(cfg, ann, folders)
    model = MODELS.build(dict(cfg.model, vocab=DEMO_GLOVE, teacher_checkpoint=None)
                         if 'teacher' in cfg.model else dict(cfg.model, vocab=DEMO_GLOVE))
    batch = model.data_preprocessor(data, True)
    assert 'targets' not in batch['inputs']
    for sample in batch['data_samples']:
        assert not [k for k in TIMESTAMP_FIELDS if k in sample]
        assert 'streams' in sample.metainfo
    assert batch['inputs']['video'].shape[-1] == 768 * len(
        cfg.model.get('teacher_streams') or cfg.model.input_streams)
    if 'teacher' not in cfg.model:  # a distiller needs a trained teacher to run its losses
        losses = model(batch['inputs'], batch['data_samples'], mode='loss')
        assert all(v.isfinite() for v in losses.values())


def test_a_pipeline_that_builds_targets_is_refused_by_the_weak_model(tiny_data):
    ann, folders = tiny_data
    cfg = load('configs/weakly_supervised/weak_student_charades_clip.py')
    data = training_batch(cfg, ann, folders, [dict(type='BuildGroundingTargets')])
    model = MODELS.build(dict(cfg.model, vocab=DEMO_GLOVE))
    batch = model.data_preprocessor(data, True)
    with pytest.raises(TimestampLeakError, match='BuildGroundingTargets'):
        model(batch['inputs'], batch['data_samples'], mode='loss')
