"""The preflight of a config: every missing input at once, each with the command that makes it."""
import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from mmemtm.utils.preflight import (MissingInputsError, check_config_inputs, config_inputs,
                                    find_missing_inputs, teacher_config)

REPO_ROOT = Path(__file__).resolve().parents[2]
GLOVE = str(REPO_ROOT / 'demo' / 'data' / 'tacos_subset' / 'glove')


def grounding_config(root: Path, curves=('seqpan_train.npz', ), aggregator=None,
                     load_from=None) -> Config:
    """A training config over ``root``'s files: train/val annotations, a feature folder, the
    demo GloVe subset, teacher curve files in ``root/curves``."""
    pipeline = [dict(type='LoadClipFeatures'), dict(type='TokenizeQuery', vocab=GLOVE)]
    teachers = dict(type='LoadTeacherCurves', files=[str(root / 'curves' / c) for c in curves])
    if aggregator:
        teachers['aggregator_files'] = [str(root / 'curves' / c) for c in aggregator]

    def loader(split, extra=()):
        return dict(dataset=dict(type='GroundingDataset', ann_file=str(root / f'{split}.json'),
                                 data_prefix=dict(features=str(root / 'features')),
                                 pipeline=[*pipeline, *extra]))

    return Config(dict(train_dataloader=loader('train', [teachers]), val_dataloader=loader('val'),
                       test_dataloader=loader('test'), model=dict(type='EMTM', vocab=GLOVE),
                       load_from=load_from),
                  filename=str(REPO_ROOT / 'configs' / 'emtm_tacos.py'))


def write_data(root: Path, videos=('v1', 'v2'), features=('v1', 'v2'), curves=()) -> None:
    for split in ('train', 'val', 'test'):
        records = [[v, 30.0, [1.0, 5.0], 'he takes out a pan.'] for v in videos]
        (root / f'{split}.json').write_text(json.dumps(records))
    (root / 'features').mkdir(exist_ok=True)
    for video in features:
        np.save(root / 'features' / f'{video}.npy', np.zeros((4, 8), np.float32))
    (root / 'curves').mkdir(exist_ok=True)
    for name in curves:
        (root / 'curves' / name).write_bytes(b'')


def test_a_complete_config_passes(tmp_path):
    write_data(tmp_path, curves=['seqpan_train.npz'])
    check_config_inputs(grounding_config(tmp_path))


def test_every_input_of_the_config_is_found(tmp_path):
    inputs, sources = config_inputs(grounding_config(tmp_path, load_from='ckpt.pth'))
    kinds = {(i.kind, Path(i.path).name) for i in inputs}
    assert kinds == {('annotation file', 'train.json'), ('annotation file', 'val.json'),
                     ('features', 'features'), ('vocabulary', 'glove'),
                     ('teacher curves', 'seqpan_train.npz'), ('checkpoint', 'ckpt.pth')}
    vocab = next(i for i in inputs if i.kind == 'vocabulary')
    assert vocab.keys == ['train_dataloader.dataset.pipeline.1.vocab',
                          'val_dataloader.dataset.pipeline.1.vocab', 'model.vocab']
    assert [Path(s.ann_file).name for s in sources] == ['train.json', 'val.json']


def test_all_missing_inputs_are_listed_with_their_commands(tmp_path):
    cfg = grounding_config(tmp_path, curves=['seqpan_train.npz', 'scdm_train.npz'],
                           aggregator=['seqpan_train_oof.npz', 'scdm_train_oof.npz'],
                           load_from=str(tmp_path / 'pretrained.pth'))
    with pytest.raises(MissingInputsError) as info:
        check_config_inputs(cfg)
    missing = {Path(m.path).name: m for m in info.value.missing}
    assert set(missing) == {'train.json', 'val.json', tmp_path.name, 'features',
                            'seqpan_train.npz', 'scdm_train.npz', 'seqpan_train_oof.npz',
                            'scdm_train_oof.npz', 'pretrained.pth'} - {tmp_path.name}
    assert missing['seqpan_train.npz'].remedy.endswith(
        'python tools/dump_teacher_curves.py configs/teachers/seqpan_tacos.py '
        f'work_dirs/seqpan_tacos/best_*.pth --out {tmp_path}/curves/seqpan_train.npz')
    assert 'python tools/train.py configs/teachers/seqpan_tacos.py' in missing[
        'seqpan_train.npz'].remedy
    assert missing['scdm_train_oof.npz'].remedy.startswith(
        'out-of-fold curves: python tools/cross_fit_teacher_curves.py '
        'configs/teachers/scdm_tacos.py')
    assert 'real data' in missing['train.json'].remedy
    assert 'tools/extract_features.py' in missing['features'].remedy
    assert 'python tools/train.py configs/emtm_tacos.py' in missing['pretrained.pth'].remedy
    message = str(info.value)
    assert message.startswith('configs/emtm_tacos.py: 8 input(s) missing; nothing was built')
    assert len(message.splitlines()) == 1 + 2 * 8


def test_videos_without_features_are_reported(tmp_path):
    write_data(tmp_path, videos=('v1', 'v2', 'v3'), features=('v2', ),
               curves=['seqpan_train.npz'])
    missing = find_missing_inputs(grounding_config(tmp_path))
    assert [(m.kind, m.detail) for m in missing] == [
        ('features', f'2 of the 3 videos of {tmp_path}/train.json, {tmp_path}/val.json have no '
         'features there, e.g. v1.npy')]


def test_planted_features_get_the_planting_command(tmp_path):
    write_data(tmp_path, curves=['seqpan_train.npz'])
    cfg = grounding_config(tmp_path)
    planted = str(tmp_path / 'planted' / 'set')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_prefix.features = planted
    [missing] = find_missing_inputs(cfg)
    anns = ' '.join(str(tmp_path / f'{s}.json') for s in ('train', 'val', 'test'))
    assert missing.remedy == (
        'synthetic (planted) features: python tools/data/generate_planted_features.py '
        f'--ann {anns} --glove {GLOVE} --out {planted} --seed 0')


def test_the_demo_configs_inputs_name_make_demo(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    cfg = Config.fromfile('configs/emtm_tacos_demo.py')
    for split in ('train', 'val', 'test'):  # whatever this checkout holds
        cfg[f'{split}_dataloader'].dataset.data_prefix.features = 'data/planted/absent'
    curves = 'work_dirs/demo/absent/tan2d_train.npz'
    cfg.train_dataloader.dataset.pipeline[4].files = [curves]
    missing = {m.path: m.remedy for m in find_missing_inputs(cfg)}
    assert missing == {
        curves: 'make demo (trains the teachers and writes them), or: python tools/train.py '
        'configs/teachers/tan2d_tacos_demo.py, then python tools/dump_teacher_curves.py '
        'configs/teachers/tan2d_tacos_demo.py work_dirs/tan2d_tacos_demo/best_*.pth '
        f'--out {curves}',
        'data/planted/absent': 'synthetic (planted) features: python '
        'tools/data/generate_planted_features.py --ann demo/data/tacos_subset/train.json '
        'demo/data/tacos_subset/val.json demo/data/tacos_subset/test.json --glove '
        'demo/data/tacos_subset/glove --out data/planted/absent --seed 0'}


def test_the_teacher_config_is_the_one_of_the_data_set(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert teacher_config('configs/emtm_tacos_demo.py', 'seqpan') == \
        'configs/teachers/seqpan_tacos_demo.py'
    assert teacher_config('configs/ablations/emtm_charades_clip_kau.py', 'tan2d') == \
        'configs/teachers/tan2d_charades_clip.py'
    assert teacher_config('configs/emtm_tacos.py', 'nosuchteacher') is None


def test_bundled_files_are_looked_up_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # e.g. mim train from another folder
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'ablations' / 'student_only_tacos_demo.py'))
    missing = {m.path: m.remedy for m in find_missing_inputs(cfg) if m.kind == 'vocabulary'}
    assert missing == {'demo/data/tacos_subset/glove': (
        'bundled with the mmemtm repository: run from its root (the path is relative to the '
        'working directory), or restore it there with git checkout -- '
        'demo/data/tacos_subset/glove')}


def test_the_synthetic_motion_set_gets_its_generator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'recognition_kd' /
                              'logit_kd_synthetic_motion.py'))
    remedies = {m.path: m.remedy for m in find_missing_inputs(cfg)}
    assert remedies['data/synthetic_motion/train.txt'] == remedies['data/synthetic_motion'] == (
        'the synthetic motion set: python tools/data/generate_synthetic_motion.py '
        'data/synthetic_motion')
    teacher = 'configs/recognition_kd/i3d_teacher_synthetic_motion.py'
    assert remedies['work_dirs/i3d_teacher_synthetic_motion/teacher.pth'] == (
        f'python tools/train.py {REPO_ROOT / teacher} writes checkpoints into '
        'work_dirs/i3d_teacher_synthetic_motion/ (best_*.pth, epoch_N.pth)')


def test_a_csv_without_durations_needs_its_videos(tmp_path, monkeypatch, shared_data):
    """The CSV data set config (docs/your_own_dataset.md): the videos the durations are read
    from are an input, and the vocabulary's command reads the CSV."""
    monkeypatch.setenv('MMEMTM_DATA_ROOT', str(tmp_path))
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'custom' / 'student_custom_csv_clip.py'))
    (tmp_path / 'sentences.csv').write_text('video,start,end,sentence,split\n'
                                            '3MSZA,24.3,30.4,person turn a light on.,train\n'
                                            '3MSZA,1.0,5.0,person opens a door.,val\n')
    missing = {m.kind: m for m in find_missing_inputs(cfg)}
    assert set(missing) == {'videos', 'features', 'vocabulary'}
    assert missing['videos'].path == f'{tmp_path}/videos'
    assert missing['videos'].remedy.startswith(
        f'the video files <video_id>.<ext> that the durations of {tmp_path}/sentences.csv are '
        'read from (it has no "duration" column)')
    assert (f'python tools/data/build_glove_subset.py --glove GLOVE_TXT --ann '
            f'{tmp_path}/sentences.csv --out {tmp_path}/glove') in missing['vocabulary'].remedy

    (tmp_path / 'videos').mkdir()
    (tmp_path / 'videos' / '3MSZA.mp4').symlink_to(
        shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    (tmp_path / 'features' / 'clip_vitl14').mkdir(parents=True)
    missing = {m.kind: m for m in find_missing_inputs(cfg)}
    assert set(missing) == {'features', 'vocabulary'}
    assert missing['features'].detail == (f'1 of the 1 videos of {tmp_path}/sentences.csv have '
                                          'no features there, e.g. 3MSZA.npy')
