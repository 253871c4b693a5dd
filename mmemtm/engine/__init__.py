from .hooks import RandomStateHook, capture_random_states, restore_random_states
from .model_wrappers import DeviceAwareDistributedDataParallel

__all__ = [
    'DeviceAwareDistributedDataParallel', 'RandomStateHook', 'capture_random_states',
    'restore_random_states'
]
