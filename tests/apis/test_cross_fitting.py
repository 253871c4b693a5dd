"""Cross-fitted teacher curves (mmemtm.apis.cross_fitting) with a teacher that memorises."""
import hashlib
import json
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

import mmemtm  # noqa: F401
from mmemtm.apis import cross_fitting
from mmemtm.apis.cross_fitting import cross_fit_teacher_curves, plan_folds, video_fold
from mmemtm.apis.curve_dumping import dump_teacher_curves
from mmemtm.datasets.curve_file import TeacherCurveFile
from mmemtm.models.grounders import BaseGrounder
from mmemtm.structures import GroundingDataSample
from mmemtm.structures.temporal import time_to_index
from mmemtm.utils import read_json

REPO = Path(__file__).resolve().parents[2]
GLOVE = REPO / 'demo' / 'data' / 'tacos_subset' / 'glove'
FOLDS = 3
CLIPS, DIM, DURATION = 16, 8, 32.0
TRAIN_VIDEOS = [f'vid{i:02d}' for i in range(9)]  # 2, 2 and 5 videos in folds 0, 1, 2
VAL_VIDEOS = ['val00', 'val01']
SENTENCES = ['Gather piece of ginger', 'Find a good knife.', 'Get out cutting board.']

CONFIG = """
_base_ = ['{repo}/configs/_base_/grounding_runtime.py']
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1),
                     logger=dict(interval=1))
model = dict(type='MemorisingGrounder',
             data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
test_pipeline = [
    dict(type='LoadClipFeatures', feature_dim={dim}),
    dict(type='DownsampleClips', max_vlen=32),
    dict(type='TokenizeQuery', vocab='{glove}', max_words=12),
    dict(type='PackGroundingInputs'),
]
train_pipeline = test_pipeline[:3] + [dict(type='BuildGroundingTargets'), test_pipeline[3]]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='GroundingDataset', ann_file='{root}/train.json',
                 data_prefix=dict(features='{root}/feats'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GroundingDataset', ann_file='{root}/val.json',
                 data_prefix=dict(features='{root}/feats'), pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = test_evaluator = dict(type='GroundingMetric')
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
"""


class MemorisingGrounder(BaseGrounder):
    """A span teacher that memorises: the ground-truth clip span of every (video, sentence) it
    was trained on (seen by :meth:`loss`), a sharp curve there, a flat curve on anything else.

    The lookup table is part of the state dict (extra state), so checkpoints keep it; ``dummy``
    is a trainable parameter for the optimizer.
    """

    def __init__(self, data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.table: Dict[str, List[int]] = {}

    @staticmethod
    def keys(inputs: Dict[str, torch.Tensor]) -> List[str]:
        """``'<fingerprint of the valid clips>|<word ids>'`` of every query of the batch."""
        v_lens = inputs['video_mask'].sum(1).long().tolist()
        return [f'{float(inputs["video"][b, :v].sum()):.4f}|'
                f'{inputs["words"][b][inputs["word_mask"][b] > 0].tolist()}'
                for b, v in enumerate(v_lens)]

    def get_extra_state(self) -> dict:
        return dict(table=self.table)

    def set_extra_state(self, state: dict) -> None:
        self.table = dict(state['table'])

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        for key, span in zip(self.keys(inputs), inputs['targets']['gt_span'].tolist()):
            self.table[key] = span
        return dict(loss_dummy=self.dummy.square().sum())

    def boundary_logits(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``[2, B, L]``: 10 at the memorised start / end clip, 0 elsewhere (flat if unseen)."""
        batch, length = inputs['video_mask'].shape
        logits = torch.zeros(2, batch, length)
        for b, key in enumerate(self.keys(inputs)):
            if key in self.table:
                start, end = self.table[key]
                logits[0, b, start] = logits[1, b, end] = 10.0
        return logits.to(inputs['video'].device)

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        start, end = self.boundary_logits(inputs).argmax(-1)
        spans = torch.stack([start, torch.maximum(start, end)], -1)[:, None]
        return dict(spans=spans, scores=torch.ones(spans.shape[:2]))

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        start, end = self.boundary_logits(inputs)
        return dict(kind='span', start_logits=start, end_logits=end,
                    valid_len=inputs['video_mask'].sum(1).long())


def write_split(root: Path, split: str, videos: List[str], rng: np.random.Generator) -> None:
    """Annotations (a span starting at clip >= 1 per sentence) and random features."""
    records = []
    for video in videos:
        np.save(root / 'feats' / f'{video}.npy', rng.standard_normal((CLIPS, DIM)).astype('f4'))
        for sentence in SENTENCES:
            start = float(rng.uniform(4.0, 16.0))
            records.append([video, DURATION, [start, start + float(rng.uniform(2.0, 12.0))],
                            sentence])
    (root / f'{split}.json').write_text(json.dumps(records))


@pytest.fixture(scope='module', autouse=True)
def memorising_grounder():
    """MemorisingGrounder in the registry for this module's tests only (other tests check that
    every registered teacher has a contract test)."""
    MODELS.register_module(module=MemorisingGrounder, force=True)
    yield
    MODELS.module_dict.pop('MemorisingGrounder', None)


@pytest.fixture(scope='module')
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('cross_fit')
    (root / 'feats').mkdir()
    rng = np.random.default_rng(0)
    write_split(root, 'train', TRAIN_VIDEOS, rng)
    write_split(root, 'val', VAL_VIDEOS, rng)
    (root / 'feats' / 'feature_shapes.json').write_text(
        json.dumps({v: CLIPS for v in TRAIN_VIDEOS + VAL_VIDEOS}))
    (root / 'teacher.py').write_text(CONFIG.format(repo=REPO, dim=DIM, glove=GLOVE, root=root))
    return root


@pytest.fixture(scope='module')
def oof(data) -> Path:
    """The out-of-fold curve file of the memorising teacher (3 folds, 1 epoch each)."""
    out = data / 'oof.npz'
    cross_fit_teacher_curves(str(data / 'teacher.py'), str(out), str(data / 'work'), FOLDS,
                             name='Memo', seed=3)
    return out


def train_records(data: Path) -> list:
    return json.loads((data / 'train.json').read_text())


def exact_decodes(curves: TeacherCurveFile, data: Path) -> float:
    """Fraction of train queries whose curves' argmax start and end are the true clips."""
    hits, counts = [], {}
    for video, duration, (start, end), _ in train_records(data):
        qid = f'{video}#{counts.setdefault(video, 0)}'
        counts[video] += 1
        decoded = tuple(int(c.argmax()) for c in curves.entry(qid).curves)
        hits.append(decoded == time_to_index(start, end, duration, CLIPS))
    return float(np.mean(hits))


def test_folds_are_fixed_by_the_video_id():
    assert video_fold('s27-d34', 5) == int(hashlib.sha1(b's27-d34').hexdigest(), 16) % 5
    assert [video_fold(v, FOLDS) for v in TRAIN_VIDEOS] == \
        [video_fold(v, FOLDS) for v in reversed(TRAIN_VIDEOS)][::-1]
    videos = [v for v in TRAIN_VIDEOS for _ in SENTENCES]
    plans = plan_folds(videos, FOLDS)
    held_out = sorted(i for p in plans for i in p.held_out_indices)
    assert held_out == list(range(len(videos)))  # every query in exactly one fold
    for plan in plans:
        assert {video_fold(videos[i], FOLDS) for i in plan.held_out_indices} == {plan.fold}
        assert sorted(plan.train_indices + plan.held_out_indices) == held_out


def test_every_query_comes_from_a_teacher_that_never_saw_its_video(oof, data):
    curves = TeacherCurveFile(str(oof))
    meta = curves.meta
    assert (curves.teacher, curves.kind, meta['split']) == ('Memo', 'span', 'train')
    assert meta['converter'].startswith('SpanCurveConverter')
    fit = meta['cross_fit']
    assert (fit['folds'], fit['seed'], fit['epochs']) == (FOLDS, 3, 1)
    assert fit['config'] == str(data / 'teacher.py') and len(fit['config_sha1']) == 40
    order = [f'{r[0]}#{SENTENCES.index(r[3])}' for r in train_records(data)]
    assert curves.query_ids == order  # annotation order
    assert fit['fold_of_query'] == {q: video_fold(q.split('#')[0], FOLDS) for q in order}
    for k, checkpoint in enumerate(fit['checkpoints']):
        fold_dir = data / 'work' / f'fold{k}'
        assert Path(checkpoint).parent == fold_dir and osp.basename(checkpoint).startswith(
            'best_R1@0.5')
        plan = read_json(str(fold_dir / 'fold.json'))
        trained_videos = {q.split('#')[0] for q in plan['train_query_ids']}
        assert plan['held_out_videos'] and not trained_videos & set(plan['held_out_videos'])
        assert sorted(plan['train_query_ids'] + plan['held_out_query_ids']) == sorted(order)
        assert {fit['fold_of_query'][q] for q in plan['held_out_query_ids']} == {k}
        fold_curves = TeacherCurveFile(str(fold_dir / f'fold{k}_curves.npz'))
        assert fold_curves.query_ids == plan['held_out_query_ids']
        for qid in fold_curves.query_ids:
            np.testing.assert_array_equal(curves.entry(qid).curves, fold_curves.entry(qid).curves)


def test_memorised_in_sample_curves_decode_the_truth_out_of_fold_ones_do_not(oof, data):
    cfg = Config.fromfile(str(data / 'teacher.py'))
    cfg.work_dir, cfg.experiment_name = str(data / 'in_sample'), 'in_sample'
    runner = Runner.from_cfg(cfg)
    runner.train()
    dump_teacher_curves(runner.model, cfg, str(data / 'in_sample.npz'), 'train', 'Memo')
    assert exact_decodes(TeacherCurveFile(str(data / 'in_sample.npz')), data) >= 0.95
    assert exact_decodes(TeacherCurveFile(str(oof)), data) <= 0.5


def test_a_rerun_skips_finished_folds_and_never_retrains(oof, data, monkeypatch, load_tool):
    checkpoints = sorted((data / 'work').glob('fold*/*.pth'))
    stamps = [p.stat().st_mtime_ns for p in checkpoints]

    def no_training(*args, **kwargs):
        raise AssertionError('a finished training ran again')

    monkeypatch.setattr(Runner, 'train', no_training)
    (data / 'work' / 'fold1' / 'finished').unlink()  # stopped after training, before the dump
    tool = load_tool('tools/cross_fit_teacher_curves.py')
    again = data / 'again.npz'
    tool.main([str(data / 'teacher.py'), '--out', str(again), '--work-dir', str(data / 'work'),
               '--folds', str(FOLDS), '--name', 'Memo', '--seed', '3'])
    assert [p.stat().st_mtime_ns for p in checkpoints] == stamps
    first, second = TeacherCurveFile(str(oof)), TeacherCurveFile(str(again))
    assert second.meta['cross_fit'] == first.meta['cross_fit']
    for qid in first.query_ids:
        np.testing.assert_array_equal(first.entry(qid).curves, second.entry(qid).curves)
    monkeypatch.undo()
    for marker in ('finished', 'trained.json'):  # stopped at the end of its last epoch
        (data / 'work' / 'fold0' / marker).unlink()
    cross_fit_teacher_curves(str(data / 'teacher.py'), str(again), str(data / 'work'), FOLDS,
                             name='Memo', seed=3)  # mmengine resumes: no epoch is left
    assert [p.stat().st_mtime_ns for p in checkpoints] == stamps
    assert TeacherCurveFile(str(again)).meta['cross_fit'] == first.meta['cross_fit']
    with pytest.raises(ValueError, match='records another cross-fitting run'):
        cross_fit_teacher_curves(str(data / 'teacher.py'), str(again), str(data / 'work'),
                                 FOLDS, seed=4)


@pytest.mark.parametrize('folds', [1, 0, 2.5, True])
def test_bad_folds_are_refused(folds, tmp_path):
    with pytest.raises(ValueError, match=f'folds must be an integer >= 2, got {folds!r}'):
        cross_fit_teacher_curves('unused.py', str(tmp_path / 'x.npz'), str(tmp_path), folds)


def test_a_fold_without_videos_or_without_training_queries_is_refused():
    video = TRAIN_VIDEOS[0]
    fold = video_fold(video, 2)
    message = 'leaves no training query' if fold == 0 else 'fold 0 of 2 has no videos'
    with pytest.raises(ValueError, match=message):
        plan_folds([video, video], 2)
    other = next(v for v in TRAIN_VIDEOS if video_fold(v, 2) != fold)
    with pytest.raises(ValueError, match='holds every video|has no videos'):
        plan_folds([video, other], 50)
    assert cross_fitting.plan_folds([video, other], 2)[fold].held_out_indices == [0]
