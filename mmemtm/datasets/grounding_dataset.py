"""Temporal sentence grounding dataset: (video, sentence, moment) queries over clip features."""
from typing import Callable, List, Optional, Sequence, Union

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from mmengine.logging import MMLogger, print_log

from .annotation_readers import read_queries
from .feature_store import FeatureError, get_feature_store


@DATASETS.register_module()
class GroundingDataset(BaseActionDataset):
    """Queries of TACoS, Charades-STA, ActivityNet Captions (or any file a reader understands).

    Each data info holds ``query_id`` (``'<video_id>#<ann_index>'``), ``video_id``, ``ann_index``,
    ``duration`` and ``timestamp`` (``[start, end]``, seconds), ``sentence`` and ``feature_path``
    (the feature folder or HDF5 file, for :class:`LoadClipFeatures`).

    Args:
        ann_file: Annotation file (joined with ``data_root``).
        pipeline: Transforms.
        data_prefix: ``dict(features=...)``: a folder of ``<video_id>.npy`` files or one HDF5 file.
        reader: Reader config, e.g. ``dict(type='CharadesSTAReader', duration_file=...)``;
            default ``JsonListReader``.
        end_tolerance: Seconds an annotated end may exceed the duration (it is clipped).
        skip_invalid: Skip and report invalid records instead of raising an error.
        check_features: Check at start-up that every video has stored features.
        test_mode: Build the dataset for testing.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: dict = dict(features=''),
                 reader: Optional[dict] = None,
                 end_tolerance: float = 2.0,
                 skip_invalid: bool = False,
                 check_features: bool = True,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.reader = reader
        self.end_tolerance = end_tolerance
        self.skip_invalid = skip_invalid
        self.check_features = check_features
        super().__init__(
            ann_file, pipeline=pipeline, data_prefix=data_prefix, test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        queries, skipped = read_queries(self.ann_file, self.reader, self.end_tolerance,
                                        self.skip_invalid)
        if skipped:
            print_log(
                f'{self.ann_file}: skipped {len(skipped)} invalid record(s), e.g. {skipped[0]}',
                logger=MMLogger.get_current_instance(), level=30)
        feature_path = self.data_prefix.get('features', '')
        for query in queries:
            query['feature_path'] = feature_path
        if self.check_features:
            self._check_features(queries, feature_path)
        return queries

    @staticmethod
    def _check_features(queries: List[dict], feature_path: str) -> None:
        store = get_feature_store(feature_path)
        missing = sorted({q['video_id'] for q in queries if not store.has(q['video_id'])})
        if missing:
            first = next(q for q in queries if q['video_id'] == missing[0])
            raise FeatureError(
                f'{len(missing)} video(s) have no features in {feature_path}, e.g. '
                f'{store.location(missing[0])} (needed by query {first["query_id"]}); '
                f'missing: {", ".join(missing[:10])}')
