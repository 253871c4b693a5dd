"""SeqPAN learns planted moments through mmengine's Runner and beats the span-prior baseline."""
import json
import logging
from pathlib import Path

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.runner import Runner

import mmemtm  # noqa: F401
from mmemtm.datasets.annotation_readers import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.text import load_word_vocabulary

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / 'demo' / 'data' / 'tacos_subset'
GLOVE = str(DEMO / 'glove')
MAX_VLEN = 32
FEATURE_DIM = 32


@pytest.fixture(scope='module')
def planted(tmp_path_factory):
    """Train/val annotation files of two demo videos and their planted features."""
    root = tmp_path_factory.mktemp('planted_seqpan')
    records = json.loads((DEMO / 'train.json').read_text())
    videos = sorted({r[0] for r in records})[:2]
    kept = [r for r in records if r[0] in videos]
    split = {'train': [r for i, r in enumerate(kept) if i % 5],
             'val': [r for i, r in enumerate(kept) if i % 5 == 0]}
    for name, recs in split.items():
        (root / f'{name}.json').write_text(json.dumps(recs))
    queries = read_queries(str(root / 'train.json'))[0] + read_queries(str(root / 'val.json'))[0]
    PlantedFeatureGenerator(load_word_vocabulary(GLOVE), dim=FEATURE_DIM, noise=0.2,
                            seed=3).generate(queries, str(root / 'features'))
    return root


@pytest.fixture
def one_thread():
    """The models are tiny: one thread is fastest and immune to CPU oversubscription."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _dataloader(root: Path, split: str, train: bool) -> dict:
    pipeline = [
        dict(type='LoadClipFeatures', feature_dim=FEATURE_DIM),
        dict(type='DownsampleClips', max_vlen=MAX_VLEN),
        dict(type='TokenizeQuery', vocab=GLOVE, max_words=30),
        *([dict(type='BuildGroundingTargets')] if train else []),
        dict(type='PackGroundingInputs'),
    ]
    return dict(
        batch_size=8, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=train),
        dataset=dict(type='GroundingDataset', ann_file=str(root / f'{split}.json'),
                     data_prefix=dict(features=str(root / 'features')), pipeline=pipeline,
                     test_mode=not train))


def _train_and_validate(model: dict, root: Path, work_dir: Path, epochs: int, lr: float):
    """Train ``model`` for ``epochs``; returns (per-iteration losses, validation metrics)."""
    runner = Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=_dataloader(root, 'train', True),
        val_dataloader=_dataloader(root, 'val', False),
        val_evaluator=dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.01),
                           clip_grad=dict(max_norm=1.0)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=epochs + 1),
        val_cfg=dict(),
        default_scope='mmaction',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1000),
                           checkpoint=dict(type='CheckpointHook', interval=epochs + 1)),
        randomness=dict(seed=0),
        log_level='WARNING')
    runner.train()
    losses = [float(v) for v in runner.message_hub.get_scalar('train/loss').data[0]]
    metrics = runner.val_loop.run()
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    return losses, metrics


@pytest.mark.slow
def test_seqpan_learns_planted_moments(planted, tmp_path, one_thread):
    seqpan = dict(
        type='SeqPANGrounder', vocab=GLOVE, max_vlen=MAX_VLEN, video_dim=FEATURE_DIM, dim=32,
        num_heads=4, encoder=dict(type='QueryVideoEncoder', char_dim=8), drop_rate=0.1,
        data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=MAX_VLEN))
    losses, metrics = _train_and_validate(seqpan, planted, tmp_path / 'seqpan', 10, 3e-3)
    prior = dict(type='SpanPriorGrounder', num_bins=MAX_VLEN,
                 data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=MAX_VLEN))
    _, prior_metrics = _train_and_validate(prior, planted, tmp_path / 'prior', 8, 1e-1)

    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.6 * first, f'loss fell only from {first:.3f} to {last:.3f}'
    assert metrics['R1@0.5'] > prior_metrics['R1@0.5'] + 10, (metrics, prior_metrics)
