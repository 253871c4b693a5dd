"""tools/dump_teacher_curves.py end to end: train a tiny span teacher, dump, re-import."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmemtm  # noqa: F401
from mmemtm.compat import CheckpointTrustError
from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.datasets.curve_file import TeacherCurveFile
from mmemtm.text import load_word_vocabulary

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'demo' / 'data' / 'tacos_subset'
MAX_VLEN = 32
NUM_BINS = 8

CONFIG = """
_base_ = ['{repo}/configs/_base_/grounding_runtime.py']
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, save_best=None, max_keep_ckpts=1),
    logger=dict(type='LoggerHook', interval=1))
model = dict(type='SpanPriorGrounder', num_bins={bins}, topk=3,
             data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
train_pipeline = [
    dict(type='LoadClipFeatures', feature_dim=32),
    dict(type='DownsampleClips', max_vlen={max_vlen}),
    dict(type='TokenizeQuery', vocab='{glove}', max_words=12),
    dict(type='BuildGroundingTargets'),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadClipFeatures', feature_dim=32),
    dict(type='DownsampleClips', max_vlen={max_vlen}),
    dict(type='TokenizeQuery', vocab='{glove}', max_words=12),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='GroundingDataset', ann_file='{ann}', data_prefix=dict(features='{feats}'),
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GroundingDataset', ann_file='{ann}', data_prefix=dict(features='{feats}'),
                 pipeline=test_pipeline, test_mode=True))
test_evaluator = dict(type='GroundingMetric')
test_cfg = dict(type='TestLoop')
val_dataloader = val_cfg = val_evaluator = None
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.5))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
"""


@pytest.fixture(scope='module')
def teacher(tmp_path_factory, run_tool):
    """A SpanPriorGrounder trained for 1 epoch on 18 queries of 3 demo videos (planted)."""
    root = tmp_path_factory.mktemp('span_teacher')
    records = json.loads((DEMO / 'train.json').read_text())
    videos = ['s27-d34', 's22-d34', 's14-d26']  # 30, >32 and >32 planted clips
    tiny = [r for v in videos for r in [r for r in records if r[0] == v][:6]]
    ann = root / 'train.json'
    ann.write_text(json.dumps(tiny))
    feats = root / 'feats'
    queries = read_queries(str(ann))[0]
    PlantedFeatureGenerator(load_word_vocabulary(str(DEMO / 'glove')), dim=32, seed=0).generate(
        queries, str(feats))
    config = root / 'span_teacher.py'
    config.write_text(CONFIG.format(repo=REPO, bins=NUM_BINS, max_vlen=MAX_VLEN,
                                    glove=DEMO / 'glove', ann=ann, feats=feats))
    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(root / 'work')
    Runner.from_cfg(cfg).train()
    checkpoint = root / 'work' / 'epoch_1.pth'
    dump = root / 'span_teacher_train.npz'
    proc = run_tool(['tools/dump_teacher_curves.py', str(config), str(checkpoint), '--out',
                     str(dump), '--split', 'train', '--name', 'SpanPrior', '--batch-size', '5'])
    return dict(root=root, ann=ann, config=config, checkpoint=checkpoint, dump=dump,
                queries=queries, log=proc.stdout)


def test_dump_writes_one_softmax_curve_per_query(teacher):
    curves = TeacherCurveFile(str(teacher['dump']))
    assert (curves.teacher, curves.kind) == ('SpanPrior', 'span')
    assert curves.meta['split'] == 'train' and curves.meta['ann_file'] == str(teacher['ann'])
    assert curves.meta['converter'].startswith('SpanCurveConverter')
    assert '18 span teacher curves' in teacher['log']
    queries = teacher['queries']
    assert sorted(curves.query_ids) == sorted(q['query_id'] for q in queries)
    logits = torch.load(teacher['checkpoint'], map_location='cpu',
                        weights_only=False)['state_dict']['logits']
    assert not torch.allclose(logits, torch.zeros_like(logits)), 'the teacher did not train'
    clips = json.loads((teacher['root'] / 'feats' / 'feature_shapes.json').read_text())
    lengths = set()
    for query in queries:
        entry = curves.entry(query['query_id'])
        assert (entry.video_id, entry.sentence) == (query['video_id'], query['sentence'])
        v_len = min(MAX_VLEN, clips[query['video_id']])
        assert entry.curves.shape == (2, v_len)  # cropped to the teacher's valid length
        bins = ((torch.arange(v_len) + 0.5) / v_len * NUM_BINS).long()
        np.testing.assert_allclose(entry.curves, logits[:, bins].softmax(-1).numpy(), rtol=1e-5)
        lengths.add(v_len)
    assert lengths == {30, MAX_VLEN}


def teacher_outputs_by_query(teacher) -> dict:
    """Raw span logits of every query, computed with the dump tool's own model/data code."""
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmemtm.apis import curve_dumping
    cfg = Config.fromfile(str(teacher['config']))
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(teacher['checkpoint']), map_location='cpu')
    model.eval()
    loader = curve_dumping.build_split_dataloader(cfg, 'train', 7, 0)
    found = {}
    for (outputs, ), _, samples in curve_dumping.teacher_batches(model, loader):
        for b, sample in enumerate(samples):
            found[sample.query_id] = dict(
                start=outputs['start_logits'][b].numpy(), end=outputs['end_logits'][b].numpy(),
                valid=int(outputs['valid_len'][b]))
    return found


def test_bring_your_own_round_trip_gives_the_dumped_curves(teacher, tmp_path, load_tool):
    """Outputs exported as .npz (by query id, padded), .json (annotation order) and .pkl (by
    video id + annotation index) and imported give the curves of the dump."""
    raw = teacher_outputs_by_query(teacher)
    order = [q['query_id'] for q in teacher['queries']]
    npz = tmp_path / 'byo.npz'
    width = max(r['start'].shape[0] for r in raw.values())
    padded = np.zeros((len(order), 2, width), np.float32)
    for i, qid in enumerate(order):
        padded[i, 0, :raw[qid]['start'].shape[0]] = raw[qid]['start']
        padded[i, 1, :raw[qid]['end'].shape[0]] = raw[qid]['end']
    np.savez(npz, query_id=np.array(order[::-1]), logits=padded[::-1],
             valid_len=np.array([raw[q]['valid'] for q in order[::-1]]))
    as_json = tmp_path / 'byo.json'
    as_json.write_text(json.dumps([
        dict(start_logits=raw[q]['start'][:raw[q]['valid']].tolist(),
             end_logits=raw[q]['end'][:raw[q]['valid']].tolist()) for q in order]))
    as_pkl = tmp_path / 'byo.pkl'
    with open(as_pkl, 'wb') as f:
        pickle.dump([dict(video_id=q.split('#')[0], ann_index=int(q.split('#')[1]),
                          logits=torch.from_numpy(np.stack([raw[q]['start'], raw[q]['end']])),
                          valid_len=raw[q]['valid']) for q in order], f)

    import_tool = load_tool('tools/import_teacher_outputs.py')
    dumped = TeacherCurveFile(str(teacher['dump']))
    for source in (npz, as_json, as_pkl):
        out = tmp_path / f'{source.suffix[1:]}_imported.npz'
        unpadded = ['--unpadded'] if source == as_json else []  # cropped rows, no valid_len
        import_tool.main([str(source), '--kind', 'span', '--ann', str(teacher['ann']),
                          '--name', 'SpanPrior', '--out', str(out), *unpadded])
        imported = TeacherCurveFile(str(out))
        assert sorted(imported.query_ids) == sorted(order), source
        for qid in order:
            got, want = imported.entry(qid), dumped.entry(qid)
            assert got[:3] == want[:3]
            np.testing.assert_allclose(got.curves, want.curves, rtol=1e-6, err_msg=str(source))


def test_dump_refuses_a_model_without_teacher_outputs(teacher, tmp_path, load_tool):
    dump_tool = load_tool('tools/dump_teacher_curves.py')
    config = tmp_path / 'not_a_teacher.py'
    config.write_text(f"_base_ = ['{teacher['config']}']\n"
                      "model = dict(type='ActionDataPreprocessor', _delete_=True)\n")
    with pytest.raises(TypeError, match='has no teacher_outputs'):
        dump_tool.main([str(config), str(teacher['checkpoint']), '--out',
                        str(tmp_path / 'x.npz')])
    assert not (tmp_path / 'x.npz').exists()


def test_dump_refuses_a_checkpoint_that_runs_code(tmp_path, payload, load_tool):
    config = tmp_path / 'span_teacher.py'
    config.write_text("default_scope = 'mmaction'\n"
                      "model = dict(type='SpanPriorGrounder', num_bins=8)\n")
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, evil)
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '
                       r'(posix|nt)\.system'):
        load_tool('tools/dump_teacher_curves.py').main([str(config), str(evil), '--out',
                                               str(tmp_path / 'x.npz')])
    assert not payload.marker.exists() and not (tmp_path / 'x.npz').exists()


def test_dropout_samples_need_a_teacher_with_dropout(teacher, tmp_path, load_tool):
    dump_tool = load_tool('tools/dump_teacher_curves.py')
    with pytest.raises(ValueError, match='no dropout layer'):
        dump_tool.main([str(teacher['config']), str(teacher['checkpoint']), '--out',
                        str(tmp_path / 'mc.npz'), '--dropout-samples', '4'])
    assert not (tmp_path / 'mc.npz').exists()
