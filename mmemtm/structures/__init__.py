from .grounding_data_sample import GroundingDataSample
from .temporal import index_to_time, temporal_iou, time_to_index

__all__ = ['GroundingDataSample', 'index_to_time', 'temporal_iou', 'time_to_index']
