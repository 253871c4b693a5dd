"""Which video-feature backbone a grounder was trained on, and the extractor that matches it.

A data set config names its features' backbone next to their dimension::

    feature_backbone = 'clip-vit-l-14'   # one of FEATURE_BACKBONES
    feature_dim = 768

Older configs without ``feature_backbone`` get it from the ``feature_dim`` of their test
pipeline's ``LoadClipFeatures``: 1024 is ``'i3d'``, 768 is ``'clip-vit-l-14'``, any other
dimension names no backbone (such a model grounds pre-extracted features only, or features of an
extractor of that dimension passed explicitly).

:func:`check_extractor_fits` refuses an extractor of another backbone or dimension before any
frame is decoded.
"""
from dataclasses import dataclass
from typing import Dict, Optional

from mmengine.config import Config


@dataclass(frozen=True)
class FeatureBackbone:
    """A video-feature backbone mmemtm can extract.

    Args:
        name: The name configs use (``feature_backbone``).
        feature_dim: Size of one feature vector.
        description: What one feature row is.
    """

    name: str
    feature_dim: int
    description: str


#: The backbones mmemtm has extractors for (``build_feature_extractor``).
FEATURE_BACKBONES: Dict[str, FeatureBackbone] = {
    'i3d': FeatureBackbone('i3d', 1024, 'Kinetics-400 I3D, one 1024-d vector per second'),
    'clip-vit-l-14': FeatureBackbone(
        'clip-vit-l-14', 768, 'CLIP ViT-L/14 image embeddings of 256 frames in 64 bins'),
}


class FeatureBackboneMismatchError(ValueError):
    """A feature extractor does not make the features a model was trained on."""


@dataclass(frozen=True)
class ModelFeatures:
    """The features a grounder expects: backbone name (None if unknown) and dimension (None if
    its config does not state one); ``source`` is the config they were read from."""

    backbone: Optional[str]
    feature_dim: Optional[int]
    source: str

    def describe(self) -> str:
        name = self.backbone or 'features of an unnamed backbone'
        return f'{name} ({self.feature_dim or "any"}-d)'


def test_feature_loader(cfg: Config) -> Optional[dict]:
    """The transform of ``cfg``'s test pipeline that loads a video's features from one array:
    ``LoadClipFeatures``, or ``LoadFeatureStreams`` of one stream (a weakly-supervised student);
    None if there is none.

    Raises:
        ValueError: The test pipeline loads several feature streams (the model needs them all,
            one array of features cannot feed it).
    """
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline', [])
    for transform in pipeline:
        if transform.get('type') == 'LoadClipFeatures':
            return dict(transform)
        if transform.get('type') == 'LoadFeatureStreams':
            names = [s['name'] for s in transform['streams']]
            if len(names) != 1:
                raise ValueError(f'{cfg.filename or "the config"} tests on the feature streams '
                                 f'{names}: grounding one array of features needs a model of '
                                 'one stream (e.g. the distilled student)')
            return dict(transform)
    return None


def _test_feature_dim(cfg: Config) -> Optional[int]:
    loader = test_feature_loader(cfg)
    dim = None if loader is None else loader.get('feature_dim')
    return None if dim is None else int(dim)


def backbone_for_dim(feature_dim: Optional[int]) -> Optional[str]:
    """The backbone an old config without ``feature_backbone`` means by its feature dimension:
    the only one of :data:`FEATURE_BACKBONES` of that dimension, else None."""
    names = [b.name for b in FEATURE_BACKBONES.values() if b.feature_dim == feature_dim]
    return names[0] if len(names) == 1 else None


def model_features(cfg: Config) -> ModelFeatures:
    """The backbone and dimension of the features a model of config ``cfg`` was trained on.

    Raises:
        ValueError: The config names a known backbone of another dimension than its
            ``LoadClipFeatures``.
    """
    source = cfg.filename or 'the config'
    dim = _test_feature_dim(cfg)
    name = cfg.get('feature_backbone')
    if name is None:
        return ModelFeatures(backbone_for_dim(dim), dim, source)
    known = FEATURE_BACKBONES.get(name)
    if known is not None and dim is not None and known.feature_dim != dim:
        raise ValueError(f'{source} names feature_backbone={name!r} ({known.feature_dim}-d) '
                         f'but its LoadClipFeatures expects feature_dim={dim}')
    return ModelFeatures(name, dim if dim is not None else getattr(known, 'feature_dim', None),
                         source)


def check_extractor_fits(cfg: Config, extractor) -> None:
    """Refuse ``extractor`` unless it makes the features the model of ``cfg`` expects.

    The backbones must be equal when both are named, and the dimensions when both are known.

    Raises:
        FeatureBackboneMismatchError: Naming the model's backbone and dimension and the
            extractor's.
    """
    expected = model_features(cfg)
    got_name = getattr(extractor, 'backbone', None)
    got_dim = getattr(extractor, 'feature_dim', None)
    names_differ = None not in (expected.backbone, got_name) and expected.backbone != got_name
    dims_differ = None not in (expected.feature_dim, got_dim) and expected.feature_dim != got_dim
    if names_differ or dims_differ:
        got = f'{got_name or "an unnamed backbone"} ({got_dim}-d)'
        hint = (f'; use build_feature_extractor({expected.backbone!r})'
                if expected.backbone in FEATURE_BACKBONES else '')
        raise FeatureBackboneMismatchError(
            f'the model of {expected.source} expects {expected.describe()} features, but the '
            f'extractor makes {got} features{hint}')


def build_feature_extractor(backbone: str, device: str = 'cpu',
                            batch_size: Optional[int] = None,
                            i3d_checkpoint: Optional[str] = None,
                            clip_model: Optional[str] = None, cache_dir: Optional[str] = None,
                            local_files_only: bool = False):
    """The extractor of a backbone of :data:`FEATURE_BACKBONES`, with its default recipe.

    Args:
        backbone: ``'i3d'`` or ``'clip-vit-l-14'``.
        device: Device of the network.
        batch_size: Clips (I3D) or frames (CLIP) per forward pass (default: each one's own).
        i3d_checkpoint: Converted I3D weights (default: converted into ``cache_dir`` once).
        clip_model: CLIP weights: a folder or Hugging Face id (default: OpenAI's ViT-L/14).
        cache_dir: Cache of the I3D download and weights, or the Hugging Face cache for CLIP.
        local_files_only: CLIP only: never download weights.
    """
    if backbone == 'i3d':
        from .feature_extraction import build_i3d_feature_extractor
        return build_i3d_feature_extractor(i3d_checkpoint, cache_dir, batch_size or 8, device)
    if backbone == 'clip-vit-l-14':
        from .clip_frame_features import CLIP_VIT_L14, build_clip_frame_extractor
        return build_clip_frame_extractor(clip_model or CLIP_VIT_L14, cache_dir,
                                          local_files_only, batch_size or 32, device)
    raise ValueError(f'no feature extractor for backbone {backbone!r}; known: '
                     f'{", ".join(FEATURE_BACKBONES)}')


def extractor_for_model(cfg: Config, extractor=None, **options):
    """``extractor`` after :func:`check_extractor_fits`, or the extractor of the model's
    backbone built with ``options`` (see :func:`build_feature_extractor`).

    Raises:
        FeatureBackboneMismatchError: ``extractor`` does not fit, or the config names no
            backbone mmemtm can extract.
    """
    if extractor is not None:
        check_extractor_fits(cfg, extractor)
        return extractor
    expected = model_features(cfg)
    if expected.backbone not in FEATURE_BACKBONES:
        raise FeatureBackboneMismatchError(
            f'the model of {expected.source} expects {expected.describe()} features, which '
            f'mmemtm cannot extract (known backbones: {", ".join(FEATURE_BACKBONES)}); pass '
            'pre-extracted features or an extractor')
    extractor = build_feature_extractor(expected.backbone, **options)
    check_extractor_fits(cfg, extractor)  # e.g. other CLIP weights than ViT-L/14's
    return extractor
