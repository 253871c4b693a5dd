import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmemtm.models import GroundingDataPreprocessor
from mmemtm.structures import GroundingDataSample


def packed(v_len, n_words, n_chars, with_targets=True, teachers=None):
    sample = GroundingDataSample(metainfo=dict(v_len=v_len))
    if with_targets:
        sample.start_label = torch.full((v_len,), 1.0 / v_len)
        sample.end_label = torch.full((v_len,), 1.0 / v_len)
        sample.match_label = torch.ones(v_len, dtype=torch.long)
        sample.gt_span = torch.tensor([0, v_len - 1])
    inputs = dict(video=torch.randn(v_len, 5), words=torch.arange(2, 2 + n_words),
                  chars=torch.ones(n_words, n_chars, dtype=torch.long))
    if teachers:
        inputs['teacher_curves'] = torch.rand(teachers, 2, v_len)
    return dict(inputs=inputs, data_samples=sample)


def test_pads_to_max_vlen_and_batch_maxima():
    batch = pseudo_collate([packed(3, 2, 1, teachers=2), packed(5, 4, 6, teachers=2)])
    out = GroundingDataPreprocessor(max_vlen=8)(batch)
    x = out['inputs']
    assert x['video'].shape == (2, 8, 5)
    assert x['video_mask'].tolist()[0] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert x['words'].shape == (2, 4) and x['words'][0].tolist() == [2, 3, 0, 0]
    assert x['word_mask'].sum(1).tolist() == [2, 4]
    assert x['chars'].shape == (2, 4, 6)
    assert x['teacher_curves'].shape == (2, 2, 2, 8)
    assert x['teacher_curves'][0, :, :, 3:].abs().sum() == 0
    t = x['targets']
    assert t['start_label'].shape == (2, 8) and t['start_label'][0, 3:].sum() == 0
    assert t['gt_span'].tolist() == [[0, 2], [0, 4]]


def test_min_chars_and_batch_max_length():
    out = GroundingDataPreprocessor(max_vlen=None)(
        dict(inputs=[packed(3, 2, 1)['inputs'], packed(6, 1, 2)['inputs']]))
    assert out['inputs']['video'].shape[1] == 6
    assert out['inputs']['chars'].shape[-1] == 4
    assert 'targets' not in out['inputs']


def test_targets_only_when_every_sample_has_them():
    batch = pseudo_collate([packed(3, 2, 1), packed(4, 2, 1, with_targets=False)])
    assert 'targets' not in GroundingDataPreprocessor(8)(batch)['inputs']


def test_too_long_video_is_an_error():
    with pytest.raises(ValueError, match='more than max_vlen=4; add DownsampleClips'):
        GroundingDataPreprocessor(max_vlen=4)(pseudo_collate([packed(6, 2, 1)]))
