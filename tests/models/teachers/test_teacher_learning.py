"""Each teacher, trained with mmengine's Runner for a few epochs, learns to ground.

Data: a small planted set written to a temporary folder. Every 60 s video holds three
non-overlapping moments of random length and position, each described by a different sentence of
a fixed pool of kitchen actions (words of the demo GloVe subset); clip features are planted
(64-d, low noise and background). Training and evaluation use different videos, so the location
of a moment can only be found by matching the sentence with the video. The trivial baseline is
the best *constant* relative span chosen on the evaluation queries themselves (an oracle version
of the "most common relative span" baseline).
"""
import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmemtm.datasets.annotation_readers import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.structures import temporal_iou
from mmemtm.text import load_word_vocabulary

REPO_ROOT = Path(__file__).resolve().parents[3]
GLOVE = str(REPO_ROOT / 'demo' / 'data' / 'tacos_subset' / 'glove')
FEATURE_DIM = 64
DURATION = 60.0
SENTENCES = [
    'cracks the egg into the bowl', 'opens the fridge door', 'chops the green pepper',
    'pours juice into a glass', 'peels the garlic clove', 'drains the beans in the colander',
    'places bread on the plate', 'dices the potato with a knife'
]


def planted_records(num_videos: int, prefix: str, rng: np.random.Generator) -> list:
    """Annotation records ``[video, duration, [start, end], sentence]`` of ``num_videos`` videos
    with three disjoint moments of 6-14 s each."""
    records = []
    for v in range(num_videos):
        lengths = rng.uniform(6.0, 14.0, size=3)
        gaps = rng.dirichlet(np.ones(4)) * (DURATION - lengths.sum())
        start = gaps[0]
        for length, gap, sentence in zip(lengths, gaps[1:],
                                         rng.choice(SENTENCES, 3, replace=False)):
            records.append([f'{prefix}{v:03d}', DURATION,
                            [round(start, 2), round(start + length, 2)], str(sentence)])
            start += length + gap
    return records


@pytest.fixture(scope='module')
def planted_set(tmp_path_factory):
    """Annotation files (48 training videos, 16 evaluation videos) and their planted features."""
    root = tmp_path_factory.mktemp('planted_teachers')
    rng = np.random.default_rng(0)
    splits = {}
    for split, num_videos in (('train', 48), ('val', 16)):
        splits[split] = str(root / f'{split}.json')
        with open(splits[split], 'w', encoding='utf-8') as f:
            json.dump(planted_records(num_videos, split, rng), f)
    queries = []
    for ann_file in splits.values():
        queries += read_queries(ann_file, dict(type='JsonListReader'))[0]
    generator = PlantedFeatureGenerator(load_word_vocabulary(GLOVE), dim=FEATURE_DIM, noise=0.2,
                                        background=0.2, seed=0)
    generator.generate(queries, str(root / 'features'))
    return dict(splits, features=str(root / 'features'))


@pytest.fixture
def one_thread():
    """Train on one intra-op thread: these models are too small to gain from more, and spinning
    OpenMP threads slow down badly when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def best_constant_span_recall(ann_file: str, threshold: float = 0.5) -> float:
    """R1@threshold (percent) of the best constant relative span on these queries."""
    with open(ann_file, encoding='utf-8') as f:
        records = json.load(f)
    gt = np.array([[s / d, min(e, d) / d] for _, d, (s, e), _ in records])
    grid = np.linspace(0.0, 1.0, 51)
    starts, ends = np.meshgrid(grid, grid, indexing='ij')
    keep = ends > starts
    spans = np.stack([starts[keep], ends[keep]], axis=-1)
    iou = temporal_iou(spans[:, None], gt[None])
    return float(100 * (iou >= threshold).mean(1).max())


def tiny_config(config_file: str, data: dict, work_dir: Path, model: dict,
                epochs: int) -> Config:
    """The teacher's demo config on the small planted features, with a small model and a short
    schedule (batch 8, lr 3e-3, no validation during training, no checkpoints)."""
    cfg = Config.fromfile(str(REPO_ROOT / config_file))
    pipeline = [
        dict(type='LoadClipFeatures', feature_dim=FEATURE_DIM),
        dict(type='DownsampleClips', max_vlen=64),
        dict(type='TokenizeQuery', vocab=GLOVE, max_words=30),
        dict(type='BuildGroundingTargets'),
        dict(type='PackGroundingInputs'),
    ]
    for split, ann, pipe in (('train', data['train'], pipeline),
                             ('val', data['val'], pipeline[:3] + pipeline[4:])):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.ann_file = ann
        loader.dataset.data_prefix = dict(features=data['features'])
        loader.dataset.pipeline = copy.deepcopy(pipe)
    cfg.train_dataloader.batch_size = 8
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.update(model, vocab=GLOVE, video_dim=FEATURE_DIM, dropout=0.0)
    cfg.optim_wrapper.optimizer.lr = 3e-3
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_begin = epochs + 1
    cfg.param_scheduler[-1].end = epochs
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.default_hooks.logger.interval = 5
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    return cfg


def train_and_evaluate(cfg: Config):
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses, _ = runner.message_hub.get_scalar('train/loss').data
    metrics = runner.val_loop.run()
    return np.asarray(losses), metrics


@pytest.mark.slow
@pytest.mark.parametrize('config_file,model', [
    ('configs/teachers/tan2d_tacos_demo.py',
     dict(hidden_dim=32, num_cells=16,
          map_convs=dict(type='TemporalMapConvStack', num_layers=3, kernel_size=3))),
    ('configs/teachers/scdm_tacos_demo.py',
     dict(hidden_dim=32, num_cells=32, num_levels=4, attn_dim=32)),
])
def test_teacher_learns_to_ground(planted_set, tmp_path, one_thread, config_file, model):
    epochs = 10
    losses, metrics = train_and_evaluate(
        tiny_config(config_file, planted_set, tmp_path, model, epochs))
    iters = len(losses) // epochs
    assert losses[-iters:].mean() < 0.5 * losses[:iters].mean()
    baseline = best_constant_span_recall(planted_set['val'])
    assert metrics['R1@0.5'] > baseline + 30, (metrics, baseline)
    assert 'R5@0.5' in metrics and metrics['R5@0.5'] >= metrics['R1@0.5']
