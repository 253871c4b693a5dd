from .file_backend import AtomicLocalBackend, install_atomic_local_backend
from .hooks import (NonFiniteLossError, NonFiniteLossHook, RandomStateHook, SafeCheckpointHook,
                    WorkDirLockHook, capture_random_states, lock_work_dir,
                    restore_random_states)
from .model_wrappers import DeviceAwareDistributedDataParallel
from .optimizers import PartsOptimWrapperConstructor
from .runner import ResumeError, TwoPassEpochBasedTrainLoop, WorkDirRunner
from .schedule_rescaling import rescale_schedule, set_epochs

install_atomic_local_backend()

__all__ = [
    'AtomicLocalBackend', 'DeviceAwareDistributedDataParallel', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RandomStateHook', 'SafeCheckpointHook', 'WorkDirLockHook',
    'capture_random_states', 'install_atomic_local_backend', 'lock_work_dir', 'ResumeError',
    'restore_random_states', 'WorkDirRunner',
    'PartsOptimWrapperConstructor', 'TwoPassEpochBasedTrainLoop', 'rescale_schedule', 'set_epochs'
]
