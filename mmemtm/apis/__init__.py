from .clip_frame_features import (CLIPFrameFeatureExtractor, CLIPFrameRecipe,
                                  CLIPWeightsNotFoundError, build_clip_frame_extractor)
from .cross_fitting import cross_fit_teacher_curves, video_fold
from .feature_backbones import (FEATURE_BACKBONES, FeatureBackboneMismatchError,
                                build_feature_extractor, check_extractor_fits, model_features)
from .feature_extraction import (ClipFeatureExtractor, ClipFeatureRecipe, VideoReadError,
                                 build_i3d_feature_extractor, extract_features_to_folder,
                                 list_videos)
from .inference import (BACKENDS, CheckpointMismatchError, GroundingResult, Moment,
                        VideoGrounder, check_checkpoint_fits, checkpoint_backend, init_grounder,
                        load_grounder_checkpoint, model_device, read_checkpoint_weights)
from .long_video import LongVideoGrounder, WindowSpec, merge_moments, plan_windows
from .curve_dumping import build_split_dataloader, dump_teacher_curves

__all__ = [
    'BACKENDS', 'CheckpointMismatchError', 'GroundingResult', 'Moment', 'VideoGrounder',
    'check_checkpoint_fits', 'checkpoint_backend', 'init_grounder', 'model_device',
    'load_grounder_checkpoint', 'read_checkpoint_weights', 'build_split_dataloader',
    'dump_teacher_curves', 'ClipFeatureExtractor', 'ClipFeatureRecipe', 'VideoReadError',
    'build_i3d_feature_extractor', 'extract_features_to_folder', 'list_videos',
    'cross_fit_teacher_curves', 'video_fold', 'CLIPFrameFeatureExtractor', 'CLIPFrameRecipe',
    'CLIPWeightsNotFoundError', 'build_clip_frame_extractor', 'FEATURE_BACKBONES',
    'FeatureBackboneMismatchError', 'build_feature_extractor', 'check_extractor_fits',
    'model_features', 'LongVideoGrounder', 'WindowSpec', 'merge_moments', 'plan_windows'
]
