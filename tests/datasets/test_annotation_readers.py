import json

import pytest

from mmemtm.datasets import AnnotationError, CSVReader, read_queries

TACOS_2DTAN = dict(type='TACoS2DTANReader')
ANET = dict(type='ActivityNetCaptionsReader')


def charades(shared_data, side='Charades_duration.json'):
    return dict(type='CharadesSTAReader', duration_file=str(shared_data / 'charades_sta' / side))


def find(queries, video_id, sentence):
    return next(q for q in queries if q['video_id'] == video_id and q['sentence'] == sentence)


def test_tacos_json_list(shared_data):
    test, skipped = read_queries(str(shared_data / 'tacos' / 'vslnet_format' / 'test.json'))
    train, _ = read_queries(str(shared_data / 'tacos' / 'vslnet_format' / 'train.json'))
    assert (len(test), len(train), skipped) == (4001, 9790, [])
    pan = find(train, 's17-d69', 'He took out a pan')
    assert pan['duration'] == pytest.approx(423.06)
    assert pan['timestamp'] == pytest.approx([7.62, 12.18])
    assert pan['query_id'] == f's17-d69#{pan["ann_index"]}'
    assert len({q['query_id'] for q in train}) == len(train)


def test_tacos_2dtan_frames_to_seconds(shared_data):
    splits = {s: read_queries(str(shared_data / 'tacos' / '2dtan_format' / f'{s}.json'),
                              TACOS_2DTAN)[0] for s in ('train', 'val', 'test')}
    assert {s: len(q) for s, q in splits.items()} == dict(train=9790, val=4436, test=4001)
    pan = splits['train'][0]
    assert (pan['video_id'], pan['sentence'], pan['query_id']) == ('s17-d69', 'He took out a pan',
                                                                   's17-d69#0')
    assert pan['duration'] == pytest.approx(12438 / 29.4)
    assert pan['timestamp'] == pytest.approx([224 / 29.4, 358 / 29.4])
    assert splits['train'][1]['query_id'] == 's17-d69#1'
    assert all(q['timestamp'][1] <= q['duration'] for q in splits['train'])


def test_charades_sta_tall_lines(shared_data):
    path = str(shared_data / 'charades_sta' / 'Charades_sta_test.txt')
    test, skipped = read_queries(path, charades(shared_data))
    assert (len(test), skipped) == (3720, [])
    first = test[0]
    assert (first['video_id'], first['sentence']) == ('3MSZA', 'person turn a light on.')
    assert first['timestamp'] == pytest.approx([24.3, 30.4])
    assert read_queries(path, charades(shared_data, 'Charades_v1_test.csv'))[0][0][
        'duration'] == pytest.approx(first['duration'], abs=0.5)


def test_charades_train_has_four_invalid_records(shared_data):
    path = str(shared_data / 'charades_sta' / 'Charades_sta_train.txt')
    with pytest.raises(AnnotationError, match=r'line 8252 \(video LEOL6\): start 8.0 s is not '
                       r'before end 7.0 s'):
        read_queries(path, charades(shared_data))
    train, skipped = read_queries(path, charades(shared_data), skip_invalid=True)
    assert (len(train), len(skipped)) == (12404, 4)
    clipped = find(train, 'Y6R7T', 'person begins to play on a phone.')
    assert clipped['timestamp'] == pytest.approx([20.8, clipped['duration']])


def test_charades_json_list(shared_data):
    train, _ = read_queries(str(shared_data / 'charades_sta' / 'vslnet_train.json'))
    test, _ = read_queries(str(shared_data / 'charades_sta' / 'vslnet_test.json'))
    assert (len(train), len(test)) == (12408, 3720)
    book = train[0]
    assert (book['video_id'], book['duration'], book['timestamp']) == ('AO8RW', 33.67, [0.0, 6.9])


def test_activitynet_captions(shared_data):
    root = shared_data / 'activitynet_captions'
    val1, _ = read_queries(str(root / 'val_1.json'), ANET)
    val2, _ = read_queries(str(root / 'val_2.json'), ANET)
    train, skipped = read_queries(str(root / 'train.json'), ANET, skip_invalid=True)
    assert (len(val1), len(val2)) == (17505, 17031)
    assert (len(train), len(skipped)) == (37417, 4)
    woman = train[0]
    assert woman['query_id'] == 'v_QOlSCBRmfWY#0'
    assert woman['duration'] == pytest.approx(82.73)
    assert woman['timestamp'] == pytest.approx([0.83, 19.86])
    assert woman['sentence'].startswith('A young woman is seen standing')
    assert not train[1]['sentence'].startswith(' ')


def write_json(tmp_path, data, name='ann.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize('record, message', [
    (['v1', 30.0, [12.0, 5.0], 'a man walks'], r'record 1 \(video v1\): start 12.0 s is not '
     r'before end 5.0 s'),
    (['v1', 30.0, [31.0, 35.0], 'a man walks'], r'record 1 \(video v1\): moment \[31.0, 35.0\] '
     r's is outside the video'),
    (['v1', 30.0, [1.0, 40.0], 'a man walks'], 'outside the video'),
    (['v1', 30.0, [-1.0, 4.0], 'a man walks'], 'outside the video'),
    (['v1', 30.0, [1.0, 4.0], '   '], r'record 1 \(video v1\): empty sentence'),
    (['v1', 0.0, [0.0, 1.0], 'a man'], 'duration must be positive'),
    (['v1', 30.0, [1.0], 'a man'], r'record 1: timestamp must be \[start, end\]'),
    (['v1', 30.0, ['a', 4.0], 'a man'], "expected a number, got 'a'"),
    (['v1', 30.0], r'record 1: expected \[video_id, duration, \[start, end\], sentence\]'),
])
def test_bad_records_are_named(tmp_path, record, message):
    path = write_json(tmp_path, [['v0', 30.0, [1.0, 2.0], 'ok'], record])
    with pytest.raises(AnnotationError, match=message) as info:
        read_queries(path)
    assert path in str(info.value)


def test_end_overshoot_within_tolerance_is_clipped(tmp_path):
    path = write_json(tmp_path, [['v0', 30.0, [1.0, 31.5], 'a man walks']])
    assert read_queries(path)[0][0]['timestamp'] == [1.0, 30.0]
    with pytest.raises(AnnotationError, match='outside the video'):
        read_queries(path, end_tolerance=1.0)


def test_skip_invalid_keeps_ids_stable(tmp_path):
    path = write_json(tmp_path, [['v0', 30.0, [5.0, 1.0], 'bad'], ['v0', 30.0, [1.0, 2.0], 'ok']])
    queries, skipped = read_queries(path, skip_invalid=True)
    assert [q['query_id'] for q in queries] == ['v0#1']
    assert len(skipped) == 1 and 'record 0' in skipped[0]


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(AnnotationError, match='does not exist'):
        read_queries(str(tmp_path / 'missing.json'))
    broken = tmp_path / 'broken.json'
    broken.write_text('[["v0", 30.0, [1.0, 2.0], "ok"')
    with pytest.raises(AnnotationError, match='broken.json: unreadable annotation file'):
        read_queries(str(broken))
    with pytest.raises(AnnotationError, match='expected a JSON list'):
        read_queries(write_json(tmp_path, {'v0': {}}))
    with pytest.raises(AnnotationError, match='no valid query'):
        read_queries(write_json(tmp_path, []))
    binary = tmp_path / 'binary.json'
    binary.write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(AnnotationError, match='unreadable annotation file'):
        read_queries(str(binary))


def test_paired_formats_check_their_structure(tmp_path):
    tacos = write_json(tmp_path, {'s1-d1.avi': {'timestamps': [[0, 10]], 'sentences': [],
                                                'fps': 30, 'num_frames': 300}})
    with pytest.raises(AnnotationError, match='video s1-d1.avi: "timestamps" and "sentences"'):
        read_queries(tacos, TACOS_2DTAN)
    anet = write_json(tmp_path, {'v_a': {'timestamps': [[0, 1]], 'sentences': ['x']}})
    with pytest.raises(AnnotationError, match="video v_a: missing key 'duration'"):
        read_queries(anet, ANET)


def test_charades_missing_duration_and_bad_line(tmp_path):
    durations = write_json(tmp_path, {'AAAAA': 30.0}, 'durations.json')
    reader = dict(type='CharadesSTAReader', duration_file=durations)
    ann = tmp_path / 'sta.txt'
    ann.write_text('AAAAA 1.0 4.0##a person sits.\nBBBBB 1.0 2.0##a person runs.\n')
    with pytest.raises(AnnotationError, match='line 2: video BBBBB has no duration'):
        read_queries(str(ann), reader)
    ann.write_text('AAAAA 1.0 4.0 a person sits.\n')
    with pytest.raises(AnnotationError, match='line 1: expected "VID start end##sentence"'):
        read_queries(str(ann), reader)


def test_byte_order_marks_are_accepted(tmp_path):
    bom = '\ufeff'
    (tmp_path / 'charades.txt').write_text(bom + 'AAA 1.0 5.0##a person opens a door.\n')
    (tmp_path / 'Charades_v1_train.csv').write_text(bom + 'id,length\nAAA,30.1\n')
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp_path / 'Charades_v1_train.csv'))
    queries = read_queries(str(tmp_path / 'charades.txt'), reader)[0]
    assert [(q['video_id'], q['duration']) for q in queries] == [('AAA', 30.1)]
    (tmp_path / 'ann.json').write_text(bom + json.dumps([['v1', 30.0, [2, 9], 'a man opens.']]))
    assert read_queries(str(tmp_path / 'ann.json'))[0][0]['video_id'] == 'v1'


def test_a_line_separator_inside_a_sentence_does_not_split_the_record(tmp_path):
    """``str.splitlines`` splits at U+2028 and made two broken records of one line."""
    (tmp_path / 'charades.txt').write_text(
        'AAA 1.0 5.0##a person opens\u2028a door.\r\nAAA 6.0 9.0##he sits down.\n',
        newline='')
    (tmp_path / 'durations.json').write_text('{"AAA": 30.0}')
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp_path / 'durations.json'))
    queries = read_queries(str(tmp_path / 'charades.txt'), reader)[0]
    assert [q['sentence'] for q in queries] == ['a person opens a door.', 'he sits down.']


def test_old_mac_line_endings_split_the_records(tmp_path):
    """A file with CR-only line endings was read as one line: its records merged into one
    (a sentence holding the next records' text, or a malformed-line error)."""
    (tmp_path / 'charades.txt').write_text(
        'AAA 1.0 5.0##a person opens a door.\rAAA 6.0 9.0##he sits down.\r\rBBB 2.0 3.0##he '
        'eats.\r', newline='')
    (tmp_path / 'durations.json').write_text('{"AAA": 30.0, "BBB": 10.0}')
    reader = dict(type='CharadesSTAReader', duration_file=str(tmp_path / 'durations.json'))
    queries = read_queries(str(tmp_path / 'charades.txt'), reader)[0]
    assert [(q['query_id'], q['sentence']) for q in queries] == [
        ('AAA#0', 'a person opens a door.'), ('AAA#1', 'he sits down.'), ('BBB#0', 'he eats.')]


def test_a_video_keeps_one_duration_across_records(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps([['v1', 30.0, [2, 9], 'a man opens.'],
                                ['v2', 12.0, [1, 2], 'a dog barks.'],
                                ['v1', 30, [3, 4], 'he sits.'],
                                ['v1', 31.5, [3, 4], 'he stands.']]))
    with pytest.raises(AnnotationError, match=r'ann\.json: record 3 \(video v1\): duration 31\.5 '
                       r's differs from the 30\.0 s of record 0'):
        read_queries(str(path))
    queries, skipped = read_queries(str(path), skip_invalid=True)
    assert [q['query_id'] for q in queries] == ['v1#0', 'v2#0', 'v1#1']
    assert len(skipped) == 1 and 'record 3' in skipped[0]

def test_zero_width_and_control_characters_read_as_spaces(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps([['v1', 30.0, [2, 9], '\u200ba\u200bman\topens the door.\u200b']]))
    assert read_queries(str(path))[0][0]['sentence'] == 'a man opens the door.'


def test_unsafe_video_ids_are_never_skipped(tmp_path):
    from mmemtm.datasets.annotation_readers import UnsafeVideoIdError
    for vid in ('../x', '/abs/x', 'a/b', '..', 'a\\b', 'nul\0'):
        path = tmp_path / 'ann.json'
        path.write_text(json.dumps([['v1', 30.0, [2, 9], 'a man.'], [vid, 30.0, [2, 9], 'x.']]))
        with pytest.raises(UnsafeVideoIdError, match='is not a plain file name'):
            read_queries(str(path), skip_invalid=True)


# --------------------------------------------------------------------------- CSVReader
CSV = dict(type='CSVReader')
CSV_ROWS = ('video,start,end,sentence,duration,split\n'
            'v1,2.0,9.0,a man opens the door.,30,train\n'
            'v2.mp4, 1, 4.5 ,"he sits down, then stands up.",12.5,val\n'
            'v1,10,20.5,he takes out a pan.,30,train\n')


def write_csv(tmp_path, text, name='sentences.csv'):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_csv_reader_reads_every_row_in_seconds(tmp_path):
    path = write_csv(tmp_path, CSV_ROWS)
    queries, skipped = read_queries(path)  # a .csv file is read by CSVReader by default
    assert skipped == []
    assert [(q['query_id'], q['duration'], q['timestamp'], q['sentence']) for q in queries] == [
        ('v1#0', 30.0, [2.0, 9.0], 'a man opens the door.'),
        ('v2#0', 12.5, [1.0, 4.5], 'he sits down, then stands up.'),
        ('v1#1', 30.0, [10.0, 20.5], 'he takes out a pan.')]


def test_csv_reader_keeps_the_rows_of_its_split(tmp_path):
    path = write_csv(tmp_path, CSV_ROWS)
    train = read_queries(path, dict(CSV, split='train'))[0]
    assert [q['query_id'] for q in train] == ['v1#0', 'v1#1']
    assert [q['video_id'] for q in read_queries(path, dict(CSV, split='val'))[0]] == ['v2']
    with pytest.raises(AnnotationError, match=r"sentences\.csv: split column: no row of split "
                       r"'test' \(the column holds 'train', 'val'\)"):
        read_queries(path, dict(CSV, split='test'))


def test_csv_reader_header_is_read_loosely_and_checked(tmp_path):
    path = write_csv(tmp_path, '\ufeff Video ,START,End,Sentence,Duration\nv1,1,2,a man.,9\n')
    assert read_queries(path)[0][0]['timestamp'] == [1.0, 2.0]
    path = write_csv(tmp_path, 'video,begin,end,sentence,duration\nv1,1,2,a man.,9\n')
    with pytest.raises(AnnotationError, match=r'sentences\.csv: header: missing column\(s\) '
                       r'start \(the header has video, begin, end, sentence, duration'):
        read_queries(path)
    path = write_csv(tmp_path, 'video,start,end,sentence,duration\nv1,1,2,a man, a dog.,9\n')
    with pytest.raises(AnnotationError, match=r'sentences\.csv: line 2: 6 cells, but the header '
                       r'has 5 columns \(a sentence that holds the delimiter'):
        read_queries(path)
    tsv = write_csv(tmp_path, 'video\tstart\tend\tsentence\tduration\nv1\t1\t2\ta, b.\t9\n',
                    'sentences.tsv')
    assert read_queries(tsv, dict(CSV, delimiter='\t'))[0][0]['sentence'] == 'a, b.'


def test_csv_reader_errors_name_file_and_line(tmp_path):
    path = write_csv(tmp_path, 'video,start,end,sentence,duration\nv1,1,2,a man.,9\n'
                     'v1,abc,2,a man.,9\nv1,5,3,a man.,9\n')
    with pytest.raises(AnnotationError, match=r"sentences\.csv: line 3 \(video v1\): expected a "
                       r"number, got 'abc'"):
        read_queries(path)
    queries, skipped = read_queries(path, skip_invalid=True)
    assert len(queries) == 1 and len(skipped) == 2
    assert 'line 4 (video v1): start 5.0 s is not before end 3.0 s' in skipped[1]


def test_split_rule_assigns_whole_videos_stably(tmp_path):
    from mmemtm.datasets.annotation_readers import split_of_video
    fractions = dict(train=0.8, val=0.1, test=0.1)
    splits = [split_of_video(f'video{i}', fractions) for i in range(2000)]
    assert splits[:3] == [split_of_video(f'video{i}', fractions) for i in range(3)]
    assert 0.77 < splits.count('train') / 2000 < 0.83
    assert 0.08 < splits.count('test') / 2000 < 0.12
    rows = 'video,start,end,sentence,duration\n' + ''.join(
        f'video{i},1,2,a man.,9\nvideo{i},3,4,a dog.,9\n' for i in range(100))
    path = write_csv(tmp_path, rows)
    seen = {}
    for split in fractions:
        for q in read_queries(path, dict(CSV, split=split))[0]:
            assert seen.setdefault(q['video_id'], split) == split
            assert split_of_video(q['video_id'], fractions) == split
    assert len(seen) == 100
    lonely = write_csv(tmp_path, 'video,start,end,sentence,duration\nvideo0,1,2,a man.,9\n')
    other = next(s for s in fractions if s != split_of_video('video0', fractions))
    with pytest.raises(AnnotationError, match=rf"split '{other}': no video falls into it by the "
                       r'split rule .*add a "split" column'):
        read_queries(lonely, dict(CSV, split=other))
    with pytest.raises(AnnotationError, match=r"split rule: the file has no \"split\" column and "
                       r"split 'dev' is none of the split_fractions"):
        read_queries(path, dict(CSV, split='dev'))
    with pytest.raises(ValueError, match='split_fractions must be fractions summing to 1'):
        read_queries(path, dict(CSV, split='train', split_fractions=dict(train=0.5)))


def test_csv_durations_come_from_the_videos(tmp_path, shared_data):
    videos = tmp_path / 'videos'
    videos.mkdir()
    (videos / '3MSZA.mp4').symlink_to(shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    path = write_csv(tmp_path,
                     'video,start,end,sentence\n3MSZA,24.3,30.4,person turn a light on.\n')
    query = read_queries(path)[0][0]
    assert query['duration'] == pytest.approx(31.0, abs=0.05)  # Charades lists 31.09 s
    assert CSVReader().inputs(path) == [('videos', str(videos))]
    assert CSVReader().inputs(write_csv(tmp_path, CSV_ROWS, 'with_durations.csv')) == []
    path = write_csv(tmp_path, 'video,start,end,sentence\n3MSZA,1,2,a.\nXYZ,1,2,b.\n')
    with pytest.raises(AnnotationError, match=r'sentences\.csv: line 3 \(video XYZ\): unknown '
                       r'video: no video file XYZ\.<ext> in .*videos'):
        read_queries(path)
    with pytest.raises(AnnotationError, match=r'sentences\.csv: header: no "duration" column, and '
                       r'the folder of the videos .*elsewhere, does not exist'):
        read_queries(path, dict(CSV, video_folder=str(tmp_path / 'elsewhere')))
