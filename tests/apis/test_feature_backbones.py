"""Models name the feature backbone they were trained on; VideoGrounder.from_video extracts with
it and refuses another before decoding a frame."""

import numpy as np
import pytest
from mmengine.config import Config

from mmemtm.apis import (FeatureBackboneMismatchError, VideoGrounder, check_extractor_fits,
                         init_grounder, model_features)
from mmemtm.apis.feature_backbones import backbone_for_dim, extractor_for_model


def pipeline_config(feature_dim=None, **top_level) -> Config:
    load = dict(type='LoadClipFeatures', feature_dim=feature_dim)
    return Config(dict(test_dataloader=dict(dataset=dict(pipeline=[load])), **top_level))


class NeverDecodes:
    """An extractor that fails the test if it is asked to open or extract a video."""

    def __init__(self, backbone, feature_dim):
        self.backbone, self.feature_dim = backbone, feature_dim

    def open(self, video):
        raise AssertionError(f'{video} was opened before the backbone check')

    extract = open


@pytest.mark.parametrize('config, backbone, dim', [
    ('configs/emtm_charades_clip.py', 'clip-vit-l-14', 768),
    ('configs/teachers/seqpan_charades_clip.py', 'clip-vit-l-14', 768),
    ('configs/emtm_tacos.py', 'i3d', 1024),
    ('configs/emtm_charades.py', 'i3d', 1024),
    ('configs/emtm_anet.py', 'i3d', 1024),
    ('configs/ablations/student_only_tacos_demo.py', 'i3d', 1024),
])
def test_configs_name_their_backbone(config, backbone, dim):
    cfg = Config.fromfile(config)
    assert cfg.feature_backbone == backbone
    features = model_features(cfg)
    assert (features.backbone, features.feature_dim) == (backbone, dim)


def test_old_configs_get_the_backbone_from_the_feature_dim():
    assert model_features(pipeline_config(768)).backbone == 'clip-vit-l-14'
    assert model_features(pipeline_config(1024)).backbone == 'i3d'
    assert model_features(pipeline_config(512)).backbone is None
    assert model_features(pipeline_config(None)).backbone is None
    assert backbone_for_dim(1024) == 'i3d'


def test_a_config_contradicting_its_feature_dim_is_an_error():
    with pytest.raises(ValueError, match=r"feature_backbone='i3d' \(1024-d\) but its "
                                         r'LoadClipFeatures expects feature_dim=768'):
        model_features(pipeline_config(768, feature_backbone='i3d'))


def test_extractor_of_another_backbone_or_dim_is_refused():
    cfg = Config.fromfile('configs/emtm_charades_clip.py')
    check_extractor_fits(cfg, NeverDecodes('clip-vit-l-14', 768))
    with pytest.raises(FeatureBackboneMismatchError,
                       match=r"emtm_charades_clip.py expects clip-vit-l-14 \(768-d\) features, "
                             r"but the extractor makes i3d \(1024-d\) features; use "
                             r"build_feature_extractor\('clip-vit-l-14'\)"):
        check_extractor_fits(cfg, NeverDecodes('i3d', 1024))
    with pytest.raises(FeatureBackboneMismatchError, match=r'clip-vision \(16-d\)'):
        check_extractor_fits(cfg, NeverDecodes('clip-vision', 16))
    with pytest.raises(FeatureBackboneMismatchError, match=r'an unnamed backbone \(512-d\)'):
        check_extractor_fits(cfg, NeverDecodes(None, 512))
    # an unnamed extractor of the right size is accepted (a custom network)
    check_extractor_fits(cfg, NeverDecodes(None, 768))


def test_a_model_of_an_unknown_backbone_needs_an_extractor():
    with pytest.raises(FeatureBackboneMismatchError, match='which mmemtm cannot extract'):
        extractor_for_model(pipeline_config(512))


@pytest.fixture(scope='module')
def clip_model():
    """A randomly initialised EMTM student of the CLIP config (tiny dims)."""
    return init_grounder('configs/ablations/emtm_charades_clip_student_only.py', None,
                         cfg_options={'model.dim': 32, 'model.num_heads': 4,
                                      'model.encoder.char_dim': 8})


def test_from_video_refuses_a_mismatch_before_extracting(clip_model, shared_data):
    video = str(shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    with pytest.raises(FeatureBackboneMismatchError,
                       match=r'expects clip-vit-l-14 \(768-d\) features, but the extractor '
                             r'makes i3d \(1024-d\)'):
        VideoGrounder.from_video(clip_model, video, extractor=NeverDecodes('i3d', 1024))


def test_from_video_extracts_with_the_models_backbone(shared_data, tmp_path):
    """A model whose config names the tiny CLIP's backbone grounds a real video end to end
    (decode -> CLIP frame features -> bins -> grounder)."""
    pytest.importorskip('transformers')
    from test_clip_frame_features import EMBED_DIM, save_tiny_clip
    from mmemtm.apis import build_clip_frame_extractor
    save_tiny_clip(tmp_path)
    extractor = build_clip_frame_extractor(str(tmp_path))
    cfg = Config.fromfile('configs/ablations/emtm_charades_clip_student_only.py')
    cfg.feature_backbone = 'clip-vision'
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform.type == 'LoadClipFeatures':
            transform.feature_dim = EMBED_DIM
    model = init_grounder(cfg, None, cfg_options={'model.video_dim': EMBED_DIM, 'model.dim': 32,
                                                  'model.num_heads': 4,
                                                  'model.encoder.char_dim': 8})
    video = str(shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    grounder = VideoGrounder.from_video(model, video, extractor=extractor)
    assert grounder.video_id == '3MSZA' and grounder.v_len == 64
    assert grounder.duration == pytest.approx(31.0, abs=1e-3)
    moments = grounder.ground('person turn a light on.')[0].moments
    assert moments and all(0 <= m.start < m.end <= 31.0 + 1e-6 for m in moments)
    with pytest.raises(FeatureBackboneMismatchError, match='clip-vision'):
        VideoGrounder.from_video(model, video, extractor=NeverDecodes('clip-vit-l-14', 768))
    assert np.isfinite([m.score for m in moments]).all()
