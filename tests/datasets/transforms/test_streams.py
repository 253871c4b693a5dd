"""LoadFeatureStreams: aligned streams concatenated in the order named, their names recorded,
and misaligned or missing streams refused naming the stream, the file and the video."""
import numpy as np
import pytest

from mmemtm.datasets.feature_store import FeatureError
from mmemtm.datasets.transforms import LoadFeatureStreams


@pytest.fixture
def streams(tmp_path):
    rng = np.random.default_rng(0)
    folders = {}
    for name, clips in (('appearance', 6), ('motion', 6), ('short', 5)):
        folder = tmp_path / name
        folder.mkdir()
        np.save(folder / 'vid.npy', rng.normal(size=(clips, 4)).astype(np.float16))
        folders[name] = str(folder)
    return folders


def load(folders, names, **kwargs):
    transform = LoadFeatureStreams([dict(name=n, path=folders[n]) for n in names], **kwargs)
    return transform(dict(video_id='vid'))


def test_streams_are_concatenated_in_the_order_named(streams):
    out = load(streams, ['motion', 'appearance'], feature_dim=4)
    motion = np.load(f'{streams["motion"]}/vid.npy').astype(np.float32)
    appearance = np.load(f'{streams["appearance"]}/vid.npy').astype(np.float32)
    assert out['video_feats'].dtype == np.float32 and out['video_feats'].shape == (6, 8)
    assert np.array_equal(out['video_feats'][:, :4], motion)
    assert np.array_equal(out['video_feats'][:, 4:], appearance)
    assert out['streams'] == ('motion', 'appearance') and out['num_clips'] == 6


def test_one_stream_is_that_stream_alone(streams):
    out = load(streams, ['appearance'])
    assert np.array_equal(out['video_feats'],
                          np.load(f'{streams["appearance"]}/vid.npy').astype(np.float32))
    assert out['streams'] == ('appearance', )


def test_misaligned_streams_are_refused_naming_both_files(streams):
    with pytest.raises(FeatureError, match=r"(?s)'short'.*short/vid.npy.*5 clips.*6"):
        load(streams, ['appearance', 'short'])


def test_a_missing_file_or_a_wrong_width_names_the_stream(streams, tmp_path):
    (tmp_path / 'empty').mkdir()
    streams['empty'] = str(tmp_path / 'empty')
    with pytest.raises(FeatureError, match=r"stream 'empty'.*vid"):
        load(streams, ['appearance', 'empty'])
    with pytest.raises(FeatureError, match="stream 'appearance'"):
        load(streams, ['appearance'], feature_dim=5)


@pytest.mark.parametrize('bad', [dict(name='a', path='x'), [dict(name='a')], []])
def test_bad_stream_lists_are_refused(bad):
    with pytest.raises(ValueError, match='stream'):
        LoadFeatureStreams(bad)
