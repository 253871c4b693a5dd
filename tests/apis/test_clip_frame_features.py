"""CLIP frame features: the recipe of the real Charades-STA CLIP set (256 uniform frames, CLIP
image embeddings, 64 bins of 4), run end to end on a real video with a small randomly
initialised CLIP vision model saved and loaded back like real weights."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mmemtm.apis import (CLIPFrameRecipe, CLIPWeightsNotFoundError, VideoReadError,
                         build_clip_frame_extractor, extract_features_to_folder)
from mmemtm.apis.clip_frame_features import (bin_means, bins_for_duration, clip_backbone_name,
                                             frames_at_times, uniform_frame_times)

# pinned in requirements/runtime.txt; skipped only in an environment installed without it
transformers = pytest.importorskip('transformers')

EMBED_DIM = 16
IMAGE_SIZE = 32


def save_tiny_clip(folder: Path, crop: int = IMAGE_SIZE) -> torch.nn.Module:
    """A random CLIP vision tower with projection (patch 8, 2 layers), saved with its image
    processor as ``save_pretrained`` saves real weights."""
    config = transformers.CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=IMAGE_SIZE, patch_size=8, projection_dim=EMBED_DIM)
    torch.manual_seed(0)
    model = transformers.CLIPVisionModelWithProjection(config).eval()
    model.save_pretrained(folder)
    transformers.CLIPImageProcessor(
        size=dict(shortest_edge=crop), crop_size=dict(height=crop, width=crop)
    ).save_pretrained(folder)
    return model


@pytest.fixture(scope='module')
def tiny_clip(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp('tiny_clip')
    model = save_tiny_clip(folder)
    return dict(folder=str(folder), model=model)


@pytest.fixture(scope='module')
def extractor(tiny_clip):
    return build_clip_frame_extractor(tiny_clip['folder'], batch_size=48)


@pytest.fixture(scope='module')
def video(shared_data) -> str:
    return str(shared_data / 'videos' / 'charades' / '3MSZA.mp4')


def reference_features(folder: str, video: str, num_frames: int, num_bins: int) -> np.ndarray:
    """The recipe written out step by step with decord and transformers directly."""
    import decord
    reader = decord.VideoReader(video)
    stamps = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0]
    duration = stamps[-1] + 1 / reader.get_avg_fps()
    times = (np.arange(num_frames) + 0.5) * duration / num_frames
    indices = [max(int(np.sum(stamps <= t + 1e-4)) - 1, 0) for t in times]
    frames = reader.get_batch(indices).asnumpy()
    processor = transformers.CLIPImageProcessor.from_pretrained(folder)
    model = transformers.CLIPVisionModelWithProjection.from_pretrained(folder).eval()
    with torch.no_grad():
        pixels = processor(images=list(frames), return_tensors='pt')['pixel_values']
        embeds = model(pixel_values=pixels).image_embeds.numpy()
    return embeds.reshape(num_bins, num_frames // num_bins, -1).mean(axis=1)


def test_sampling_and_binning_helpers():
    np.testing.assert_allclose(uniform_frame_times(8.0, 4), [1, 3, 5, 7])
    stamps = np.array([0.0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(frames_at_times(stamps, [-1, 0, 0.49, 0.5, 9]), [0, 0, 0, 1, 3])
    embeds = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_allclose(bin_means(embeds, 3), [[2, 3], [8, 9]])
    assert bins_for_duration(30.96, 30.96 / 64) == 64
    assert bins_for_duration(0.1, 5.0) == 1
    with pytest.raises(ValueError, match='multiple of num_bins'):
        CLIPFrameRecipe(num_frames=250, num_bins=64)
    with pytest.raises(ValueError, match='do not fill bins'):
        bin_means(embeds, 4)


def test_weights_load_back_through_the_real_loading_code(tiny_clip, extractor):
    saved = tiny_clip['model'].state_dict()
    loaded = extractor.model.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert extractor.feature_dim == EMBED_DIM
    assert extractor.backbone == 'clip-vision'  # not ViT-L/14's architecture


def test_backbone_name_follows_the_architecture():
    l14 = transformers.CLIPVisionConfig(hidden_size=1024, num_hidden_layers=24, patch_size=14,
                                        projection_dim=768)
    assert clip_backbone_name(l14) == 'clip-vit-l-14'
    assert clip_backbone_name(transformers.CLIPVisionConfig()) == 'clip-vision'  # ViT-B/32


def test_real_video_gives_the_recipe_features(tiny_clip, extractor, video):
    """Decode 3MSZA (30 fps, 930 frames) -> 256 uniform frames -> CLIP processor -> embeddings
    -> 64 bins of 4, against the recipe written out directly."""
    timings = {}
    features = extractor.extract(video, timings)
    assert features.shape == (64, EMBED_DIM) and features.dtype == np.float32
    assert set(timings) == {'decode', 'network'}
    expected = reference_features(tiny_clip['folder'], video, 256, 64)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    # not normalised: rows are means of raw projected embeddings
    assert not np.allclose(np.linalg.norm(features, axis=1), 1.0)


def test_frames_are_spread_uniformly(extractor, video):
    opened = extractor.open(video)
    assert opened.duration == pytest.approx(31.0, abs=1e-3)  # 930 frames at 30 fps
    plan = extractor.plan(opened)
    assert plan.shape == (64, 4)
    flat = plan.reshape(-1)
    assert np.all(np.diff(flat) >= 0)
    # frame k shows (k + 0.5) * 31 / 256 s: every 3.63 frames, from frame 0 to frame 928
    np.testing.assert_array_equal(flat, np.floor((np.arange(256) + 0.5) * 930 / 256 + 1e-4))


def test_bins_at_a_given_rate(extractor, video):
    """seconds_per_bin keeps a bin rate instead of a bin count (long videos); at the video's own
    rate it is the default recipe exactly."""
    opened = extractor.open(video)
    np.testing.assert_array_equal(extractor.plan(opened, opened.duration / 64),
                                  extractor.plan(opened))
    assert extractor.plan(opened, 0.5).shape == (62, 4)
    assert extractor.extract(video, seconds_per_bin=2.0).shape == (16, EMBED_DIM)


def test_folder_extraction_is_keyed_and_resumable(tiny_clip, extractor, video, tmp_path):
    out = tmp_path / 'clip'
    summary = extract_features_to_folder(extractor, [('3MSZA', video)], str(out))
    assert summary['written'] == ['3MSZA']
    assert np.load(out / '3MSZA.npy').shape == (64, EMBED_DIM)
    assert json.loads((out / 'feature_shapes.json').read_text()) == {'3MSZA': 64}
    recipe = json.loads((out / 'feature_recipe.json').read_text())
    assert recipe['num_frames'] == 256 and recipe['num_bins'] == 64
    assert recipe['feature_dim'] == EMBED_DIM and recipe['backbone'] == 'clip-vision'
    again = extract_features_to_folder(extractor, [('3MSZA', video)], str(out))
    assert again['skipped'] == ['3MSZA'] and not again['written']
    other = build_clip_frame_extractor(tiny_clip['folder'],
                                       recipe=CLIPFrameRecipe(num_frames=128, num_bins=64))
    with pytest.raises(ValueError, match='another recipe'):
        extract_features_to_folder(other, [('3MSZA', video)], str(out))


def test_missing_weights_and_bad_videos_are_named(extractor, tmp_path):
    with pytest.raises(CLIPWeightsNotFoundError, match='missing_clip does not exist'):
        build_clip_frame_extractor(str(tmp_path / 'missing_clip'))
    with pytest.raises(CLIPWeightsNotFoundError,
                       match="cannot load CLIP weights 'openai/clip-vit-large-patch14' from the "
                             'Hugging Face cache'):
        build_clip_frame_extractor(cache_dir=str(tmp_path / 'empty_cache'),
                                   local_files_only=True)
    garbage = tmp_path / 'garbage.mp4'
    garbage.write_bytes(b'not a video')
    with pytest.raises(VideoReadError, match='garbage.mp4'):
        extractor.extract(str(garbage))


def test_processor_of_another_size_is_refused(tmp_path):
    save_tiny_clip(tmp_path, crop=48)
    with pytest.raises(ValueError, match=r'crops 48 px but the vision model expects 32 px'):
        build_clip_frame_extractor(str(tmp_path))
