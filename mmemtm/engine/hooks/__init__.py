from .checkpoint_hook import SafeCheckpointHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .random_state_hook import RandomStateHook, capture_random_states, restore_random_states
from .work_dir_lock_hook import WorkDirLockHook, lock_work_dir

__all__ = [
    'NonFiniteLossError', 'NonFiniteLossHook', 'RandomStateHook', 'SafeCheckpointHook',
    'WorkDirLockHook', 'capture_random_states', 'lock_work_dir', 'restore_random_states'
]
