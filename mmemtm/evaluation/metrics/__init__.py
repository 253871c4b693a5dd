from .grounding_metric import GroundingMetric
from .multi_label_acc_metric import MultiLabelAccMetric, multi_label_accuracy

__all__ = ['GroundingMetric', 'MultiLabelAccMetric', 'multi_label_accuracy']
