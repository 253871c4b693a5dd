from .inference import GroundingResult, Moment, VideoGrounder, init_grounder
from .teacher_curves import build_split_dataloader, dump_teacher_curves

__all__ = [
    'GroundingResult', 'Moment', 'VideoGrounder', 'init_grounder', 'build_split_dataloader',
    'dump_teacher_curves'
]
