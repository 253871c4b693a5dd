"""Charades action instances as a recognition set: parsing, spans, multi-label targets, splits."""
import json

import numpy as np
import pytest

from mmemtm.datasets import ActionAnnotationError, CharadesActionDataset, parse_actions
from mmemtm.datasets.charades_actions import NUM_CHARADES_CLASSES, covering_labels

SPLIT_VIDEOS = dict(train=743, val=109, test=223)
SPLIT_SPANS = dict(train=7358, val=1108, test=2284)


def real_split(shared_data, split):
    root = shared_data / 'charades_sta'
    return CharadesActionDataset(
        str(root / 'Charades_v1_test.csv'),
        split_file=str(root / 'clip_vitl14_vidmorp' / f'{split}.json'), pipeline=[],
        data_prefix=dict(features=str(root / 'clip_vitl14_vidmorp' / 'features')))


def infos_of(dataset, video_id):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return [i for i in infos if i['video_id'] == video_id]


def test_real_spans_and_labels_match_the_csv(shared_data):
    """A spot check against the CSV's text: YSKX3 (16.62 s) has
    'c077 12.10 18.00;c079 11.80 17.30;c080 13.00 18.00;c076 11.80 17.50;c075 5.40 14.10', and
    3MSZA (30.96 s) 'c105 22.70 29.70;c104 24.30 30.40;c156 0.00 25.90;c061 0.00 25.80;...'."""
    test = real_split(shared_data, 'test')
    yskx3 = infos_of(test, 'YSKX3')
    assert [i['label'] for i in yskx3] == [77, 79, 80, 76, 75]
    assert [i['timestamp'] for i in yskx3] == [[12.1, 16.62], [11.8, 16.62], [13.0, 16.62],
                                              [11.8, 16.62], [5.4, 14.1]]
    # c077 clipped to 12.10-16.62: c079, c080, c076 cover more than half of it, c075 (2.0 s) not
    assert np.flatnonzero(yskx3[0]['multi_label']).tolist() == [76, 77, 79, 80]
    assert np.flatnonzero(yskx3[4]['multi_label']).tolist() == [75]
    assert all(i['duration'] == 16.62 and i['feature_path'].endswith('YSKX3.npy')
               for i in yskx3)
    msza = infos_of(test, '3MSZA')
    assert [i['label'] for i in msza[:2]] == [105, 104]
    assert msza[0]['timestamp'] == [22.7, 29.7]
    assert msza[1]['timestamp'] == [24.3, 30.4]
    assert np.flatnonzero(msza[0]['multi_label']).tolist() == [104, 105]


def test_real_splits_are_the_grounding_splits_and_video_disjoint(shared_data):
    videos = {}
    for split in SPLIT_VIDEOS:
        dataset = real_split(shared_data, split)
        assert len(dataset) == SPLIT_SPANS[split]
        ids = {dataset.get_data_info(i)['video_id'] for i in range(len(dataset))}
        split_file = shared_data / 'charades_sta' / 'clip_vitl14_vidmorp' / f'{split}.json'
        grounding = {record[0] for record in json.loads(split_file.read_text())}
        assert ids <= grounding and len(grounding) == SPLIT_VIDEOS[split]
        videos[split] = ids
    assert not videos['train'] & videos['val']
    assert not videos['train'] & videos['test']
    assert not videos['val'] & videos['test']


@pytest.mark.parametrize('field, message', [
    ('c092 11.90', 'malformed action'),
    ('c09x 1.0 2.0', 'malformed action'),
    ('x092 1.0 2.0', 'malformed action'),
    ('c157 1.0 2.0', 'outside c000-c156'),
    ('c001 3.0 2.0', 'needs 0 <= start < end'),
    ('c001 -1.0 2.0', 'needs 0 <= start < end'),
    ('c001 nan 2.0', 'needs 0 <= start < end'),
])
def test_a_malformed_actions_field_names_its_record(field, message):
    with pytest.raises(ActionAnnotationError, match=f'file.csv, video V1: .*{message}'):
        parse_actions(f'c000 0.0 1.0;{field}', 'file.csv, video V1')


def test_parse_actions_reads_items_and_empty_fields():
    assert parse_actions('c092 11.90 21.20; c000 0 1.5;', 'f') == [(92, 11.9, 21.2), (0, 0.0, 1.5)]
    assert parse_actions('', 'f') == []


def test_covering_labels_keeps_classes_over_the_cover_fraction():
    instances = parse_actions('c001 0 10;c002 0 5;c003 4 10;c004 20 30', 'f')
    assert covering_labels(instances, (0.0, 10.0), 0.5) == [1, 3]   # c002 covers exactly half
    assert covering_labels(instances, (0.0, 10.0), 0.4) == [1, 2, 3]


def _write(tmp_path, actions, split):
    csv = tmp_path / 'actions.csv'
    csv.write_text('id,actions,length\n' + ''.join(f'{v},"{a}",1\n' for v, a in actions.items()))
    split_file = tmp_path / 'split.json'
    split_file.write_text(json.dumps([[v, d, [0, 1], 's'] for v, d in split.items()]))
    return str(csv), str(split_file)


def test_spans_are_clipped_to_the_split_duration(tmp_path):
    csv, split = _write(tmp_path, {'A': 'c005 2.0 11.0;c006 1.0 3.0', 'B': ''},
                        {'A': 10.0, 'B': 8.0})
    dataset = CharadesActionDataset(csv, split_file=split, pipeline=[],
                                    data_prefix=dict(features='feats'))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [(i['label'], i['timestamp']) for i in infos] == [(5, [2.0, 10.0]), (6, [1.0, 3.0])]
    assert infos[0]['multi_label'].shape == (NUM_CHARADES_CLASSES, )
    assert infos[0]['feature_path'] == 'feats/A.npy'


def test_a_split_video_missing_from_the_csv_is_named(tmp_path):
    csv, split = _write(tmp_path, {'A': 'c005 2.0 9.0'}, {'A': 10.0, 'Z': 5.0})
    with pytest.raises(ActionAnnotationError, match=r"split.json: videos \['Z'\]"):
        CharadesActionDataset(csv, split_file=split, pipeline=[])


def test_an_action_after_the_video_end_is_named(tmp_path):
    csv, split = _write(tmp_path, {'A': 'c005 12.0 14.0'}, {'A': 10.0})
    with pytest.raises(ActionAnnotationError, match='video A: action 0 starts at 12.0 s'):
        CharadesActionDataset(csv, split_file=split, pipeline=[])
