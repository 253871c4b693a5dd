from .model_wrappers import DeviceAwareDistributedDataParallel

__all__ = ['DeviceAwareDistributedDataParallel']
