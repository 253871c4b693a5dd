"""Trimmed Charades action instances over pre-extracted clip features (a recognition set).

Charades' ``actions`` column (``Charades_v1_*.csv``) lists every timestamped action instance of a
video, ``c092 11.90 21.20;c137 0.30 9.00;...`` (class, start and end in seconds). Each instance
becomes one sample: the clip features of its time span, its class as the label and, as a
multi-label target, every class of the video whose instance covers most of the span (Charades
actions co-occur). The videos of a split are the videos of a grounding split file (the
``[video_id, duration, [start, end], sentence]`` lists of Charades-STA), so a recognition split
never shares a video with another grounding split.
"""
import csv
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS

from mmemtm.utils import read_json

#: Classes of Charades (``c000`` - ``c156``).
NUM_CHARADES_CLASSES = 157


class ActionAnnotationError(ValueError):
    """A malformed ``actions`` field, or a split that does not match the action file."""


class ActionInstance(NamedTuple):
    """One annotated action: class index and span in seconds."""
    label: int
    start: float
    end: float


def parse_actions(field: str, where: str, num_classes: int = NUM_CHARADES_CLASSES
                  ) -> List[ActionInstance]:
    """The instances of one ``actions`` field (``'c092 11.90 21.20;c137 0.30 9.00'``; empty: none).

    Args:
        field: The field's text.
        where: The record in error messages (``'<file>, video <id>'``).
        num_classes: Class indices must be below it.

    Raises:
        ActionAnnotationError: An item that is not ``c<index> <start> <end>``, a class out of
            range, a non-finite or negative time, or an end not after the start, naming ``where``
            and the item.
    """
    instances = []
    for item in filter(None, (part.strip() for part in field.split(';'))):
        parts = item.split()
        try:
            if len(parts) != 3 or not parts[0].startswith('c'):
                raise ValueError('not "c<index> <start> <end>"')
            label, start, end = int(parts[0][1:]), float(parts[1]), float(parts[2])
        except ValueError as exc:
            raise ActionAnnotationError(f'{where}: malformed action {item!r} ({exc})') from None
        if not 0 <= label < num_classes:
            raise ActionAnnotationError(f'{where}: action {item!r} has class {label}, outside '
                                        f'c000-c{num_classes - 1:03d}')
        if not (np.isfinite(start) and np.isfinite(end)) or start < 0 or end <= start:
            raise ActionAnnotationError(f'{where}: action {item!r} needs 0 <= start < end')
        instances.append(ActionInstance(label, start, end))
    return instances


def read_action_file(path: str) -> Dict[str, str]:
    """``{video_id: actions field}`` of a Charades CSV (columns ``id`` and ``actions``)."""
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        missing = {'id', 'actions'} - set(reader.fieldnames or ())
        if missing:
            raise ActionAnnotationError(f'{path}: no column {sorted(missing)} (columns: '
                                        f'{reader.fieldnames})')
        return {row['id']: row['actions'] or '' for row in reader}


def read_split_videos(path: str) -> Dict[str, float]:
    """``{video_id: duration}`` (seconds) of a grounding split file
    (``[[video_id, duration, [start, end], sentence], ...]``), in order of first appearance."""
    videos: Dict[str, float] = {}
    for i, record in enumerate(read_json(path)):
        if not isinstance(record, list) or len(record) < 2:
            raise ActionAnnotationError(f'{path}: record {i} is not [video_id, duration, ...]')
        video_id, duration = str(record[0]), float(record[1])
        if not duration > 0 or videos.get(video_id, duration) != duration:
            raise ActionAnnotationError(f'{path}: record {i} gives video {video_id} the '
                                        f'duration {duration}, not one positive duration')
        videos[video_id] = duration
    return videos


def covering_labels(instances: Sequence[ActionInstance], span: Tuple[float, float],
                    min_cover: float) -> List[int]:
    """Sorted classes of ``instances`` that cover more than ``min_cover`` of ``span``."""
    start, end = span
    labels = {i.label for i in instances
              if min(i.end, end) - max(i.start, start) > min_cover * (end - start)}
    return sorted(labels)


@DATASETS.register_module()
class CharadesActionDataset(BaseActionDataset):
    """Every action instance of the videos of a split, as a trimmed recognition sample.

    Each data info holds ``video_id``, ``action_index`` (the instance's position in the video's
    ``actions`` field), ``duration`` (seconds, from the split file), ``timestamp`` (the
    instance's ``[start, end]`` in seconds, clipped to the duration: Charades ends may exceed it
    by up to 1.5 s), ``label`` (its class), ``multi_label`` (``[num_classes]`` float32 0/1: the
    classes of the video's instances covering more than ``min_cover`` of the span, its own
    included) and ``feature_path`` (``<features>/<video_id>.npy``).

    Args:
        ann_file: Charades action CSV (``Charades_v1_test.csv``).
        split_file: Grounding split file whose videos (and durations) make this split.
        pipeline: Transforms.
        data_prefix: ``dict(features=<folder of <video_id>.npy>)``.
        min_cover: Fraction of a span another instance must cover to be in its multi-label
            target.
        num_classes: Classes.
        test_mode: Build the dataset for testing.
    """

    def __init__(self, ann_file: str, split_file: str, pipeline: Sequence,
                 data_prefix: dict = dict(features=''), min_cover: float = 0.5,
                 num_classes: int = NUM_CHARADES_CLASSES, test_mode: bool = False,
                 **kwargs) -> None:
        self.split_file, self.min_cover = split_file, min_cover
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix,
                         test_mode=test_mode, num_classes=num_classes, **kwargs)

    def load_data_list(self) -> List[dict]:
        actions = read_action_file(self.ann_file)
        videos = read_split_videos(self.split_file)
        missing = [v for v in videos if v not in actions]
        if missing:
            raise ActionAnnotationError(f'{self.split_file}: videos {missing[:5]} (of '
                                        f'{len(missing)}) are not in {self.ann_file}')
        features = self.data_prefix.get('features', '')
        data_list = []
        for video_id, duration in videos.items():
            where = f'{self.ann_file}, video {video_id}'
            instances = parse_actions(actions[video_id], where, self.num_classes)
            for index, instance in enumerate(instances):
                if instance.start >= duration:
                    raise ActionAnnotationError(f'{where}: action {index} starts at '
                                                f'{instance.start} s, after the video\'s end '
                                                f'({duration} s in {self.split_file})')
                span = (instance.start, min(instance.end, duration))
                multi_label = np.zeros(self.num_classes, np.float32)
                multi_label[covering_labels(instances, span, self.min_cover)] = 1
                data_list.append(dict(
                    video_id=video_id, action_index=index, duration=duration,
                    timestamp=list(span), label=instance.label, multi_label=multi_label,
                    feature_path=osp.join(features, f'{video_id}.npy')))
        return data_list
