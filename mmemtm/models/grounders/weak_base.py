"""What every weakly-supervised grounder shares: training batches free of timestamps, and the
feature streams a model states it receives (``docs/weakly_supervised.md``)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from mmemtm.structures import TARGET_KEYS, GroundingDataSample
from .base_grounder import BaseGrounder

#: Data-sample fields derived from an annotated moment: none may reach a weak training batch.
TIMESTAMP_FIELDS = ('gt_time', ) + tuple(TARGET_KEYS)


class TimestampLeakError(ValueError):
    """A weakly-supervised training batch carries a target derived from the timestamps."""


class StreamMismatchError(ValueError):
    """A batch holds other feature streams than the model states it receives."""


def refuse_timestamps(inputs: Dict[str, torch.Tensor],
                      data_samples: Optional[List[GroundingDataSample]]) -> None:
    """Raise :class:`TimestampLeakError` if ``inputs`` hold ``targets`` or a data sample holds a
    field of :data:`TIMESTAMP_FIELDS` (naming the query and the field)."""
    if 'targets' in inputs:
        raise TimestampLeakError(
            'a weakly-supervised training batch holds boundary targets (inputs["targets"]): '
            'remove BuildGroundingTargets from the train pipeline')
    for sample in data_samples or []:
        leaked = [k for k in TIMESTAMP_FIELDS if k in sample]
        if leaked:
            raise TimestampLeakError(
                f'query {sample.metainfo.get("query_id", "?")!r} of a weakly-supervised '
                f'training batch carries {leaked}, derived from its annotated moment: pack the '
                "train pipeline without 'timestamp' (PackGroundingInputs meta_keys) and without "
                'BuildGroundingTargets')


def check_streams(data_samples: Optional[List[GroundingDataSample]],
                  expected: Sequence[Sequence[str]], model: str) -> Tuple[str, ...]:
    """The streams of a batch (``streams`` in the samples' meta information, written by
    ``LoadFeatureStreams``), which must be one of ``expected``; batches of a single-stream
    pipeline (``LoadClipFeatures``) state none and pass unchecked (returned as ``()``).

    Raises:
        StreamMismatchError: naming the query, its streams and the expected ones.
    """
    found: Tuple[str, ...] = ()
    for sample in data_samples or []:
        streams = tuple(sample.metainfo.get('streams', ()))
        if streams and streams not in [tuple(e) for e in expected]:
            raise StreamMismatchError(
                f'{model} receives the feature streams {[list(e) for e in expected]}, but query '
                f'{sample.metainfo.get("query_id", "?")!r} comes with {list(streams)} (see '
                'LoadFeatureStreams in the pipeline)')
        found = streams or found
    return found


class WeaklySupervisedGrounder(BaseGrounder):
    """A grounder trained from video-sentence pairs only.

    ``forward(mode='loss')`` refuses a batch with any timestamp-derived target
    (:func:`refuse_timestamps`) or with other feature streams than ``input_streams``
    (:func:`check_streams`) before calling :meth:`loss`; prediction works as for every grounder.

    Args:
        input_streams: Names of the feature streams the model receives, concatenated along the
            feature axis in this order (``LoadFeatureStreams``).
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, input_streams: Sequence[str] = ('appearance', ),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(input_streams, str) or not input_streams:
            raise ValueError(f'input_streams must be a non-empty list of stream names, got '
                             f'{input_streams!r}')
        self.input_streams = tuple(input_streams)

    def training_streams(self) -> Tuple[Tuple[str, ...], ...]:
        """Stream layouts a training batch may have."""
        return (self.input_streams, )

    def forward(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[GroundingDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor],
                                               List[GroundingDataSample]]:
        if mode == 'loss':
            refuse_timestamps(inputs, data_samples)
            check_streams(data_samples, self.training_streams(), type(self).__name__)
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            check_streams(data_samples, (self.input_streams, ), type(self).__name__)
        return super().forward(inputs, data_samples, mode)
