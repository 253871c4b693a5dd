from .inference import (CheckpointMismatchError, GroundingResult, Moment, VideoGrounder,
                        check_checkpoint_fits, init_grounder, load_grounder_checkpoint,
                        read_checkpoint_weights)
from .teacher_curves import build_split_dataloader, dump_teacher_curves

__all__ = [
    'CheckpointMismatchError', 'GroundingResult', 'Moment', 'VideoGrounder',
    'check_checkpoint_fits', 'init_grounder', 'load_grounder_checkpoint',
    'read_checkpoint_weights', 'build_split_dataloader', 'dump_teacher_curves'
]
