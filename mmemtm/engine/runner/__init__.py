from .two_pass_loop import TwoPassEpochBasedTrainLoop
from .work_dir_runner import ResumeError, WorkDirRunner, check_last_checkpoint

__all__ = ['ResumeError', 'TwoPassEpochBasedTrainLoop', 'WorkDirRunner', 'check_last_checkpoint']
