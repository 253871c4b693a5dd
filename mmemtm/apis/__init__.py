from .cross_fitting import cross_fit_teacher_curves, video_fold
from .feature_extraction import (ClipFeatureExtractor, ClipFeatureRecipe, VideoReadError,
                                 build_i3d_feature_extractor, extract_features_to_folder,
                                 list_videos)
from .inference import (BACKENDS, CheckpointMismatchError, GroundingResult, Moment,
                        VideoGrounder, check_checkpoint_fits, checkpoint_backend, init_grounder,
                        load_grounder_checkpoint, model_device, read_checkpoint_weights)
from .teacher_curves import build_split_dataloader, dump_teacher_curves

__all__ = [
    'BACKENDS', 'CheckpointMismatchError', 'GroundingResult', 'Moment', 'VideoGrounder',
    'check_checkpoint_fits', 'checkpoint_backend', 'init_grounder', 'model_device',
    'load_grounder_checkpoint', 'read_checkpoint_weights', 'build_split_dataloader',
    'dump_teacher_curves', 'ClipFeatureExtractor', 'ClipFeatureRecipe', 'VideoReadError',
    'build_i3d_feature_extractor', 'extract_features_to_folder', 'list_videos',
    'cross_fit_teacher_curves', 'video_fold'
]
