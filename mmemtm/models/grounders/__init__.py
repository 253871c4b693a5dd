from .base_grounder import BaseGrounder, spans_to_moments
from .span_prior_grounder import SpanPriorGrounder
from .weak_base import (TIMESTAMP_FIELDS, StreamMismatchError, TimestampLeakError,
                        WeaklySupervisedGrounder, check_streams, refuse_timestamps)
from .weak_gaussian_grounder import (WeakGaussianGrounder, WeakOutputs, masked_distribution,
                                     proposal_moments)

__all__ = [
    'BaseGrounder', 'SpanPriorGrounder', 'spans_to_moments', 'TIMESTAMP_FIELDS',
    'StreamMismatchError', 'TimestampLeakError', 'WeaklySupervisedGrounder', 'check_streams',
    'refuse_timestamps', 'WeakGaussianGrounder', 'WeakOutputs', 'masked_distribution',
    'proposal_moments'
]
