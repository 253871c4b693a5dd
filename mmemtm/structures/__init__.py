from .grounding_data_sample import TARGET_KEYS, GroundingDataSample
from .temporal import index_to_time, temporal_iou, time_to_index

__all__ = ['TARGET_KEYS', 'GroundingDataSample', 'index_to_time', 'temporal_iou', 'time_to_index']
