"""ONNX export and the ONNX Runtime backend: parity with PyTorch on the demo test split, the same
answers through the API and the tools, loud failures."""
import json

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS
from mmengine.config import DictAction
from mmengine.dataset import pseudo_collate

from mmemtm.apis import VideoGrounder, init_grounder
from mmemtm.deployment import (INPUTS, OnnxParityError, OnnxRuntimeGrounder, export_network,
                               export_onnx)
from mmemtm.deployment import export as export_module

from rankings import assert_same_ranking

TOLERANCE = 1e-4
#: Tolerance of a span's score (joint probability) from both backends, and of two spans' scores
#: that tie: logits within TOLERANCE move its logarithm by at most 4 * TOLERANCE (observed logit
#: differences are ~3e-6). Where two candidates tie that closely, float rounding decides which one
#: a backend ranks first (rankings.assert_same_ranking).
SCORES = dict(rel=4 * TOLERANCE)


def options_dict(options):
    """``--cfg-options`` strings as the dict ``init_grounder`` merges."""
    return {key: DictAction._parse_iterable(value)
            for key, value in (option.split('=', 1) for option in options)}


@pytest.fixture(scope='module')
def student(planted_student, tmp_path_factory, run_tool):
    """The planted student, its ONNX export (through the tool) and both backends."""
    out = tmp_path_factory.mktemp('onnx') / 'student.onnx'
    proc = run_tool(['tools/deployment/export_onnx.py', planted_student['config'],
                     planted_student['checkpoint'], '--out', str(out), '--cfg-options',
                     *planted_student['options']])
    options = options_dict(planted_student['options'])
    torch_model = init_grounder(planted_student['config'], planted_student['checkpoint'],
                                cfg_options=options)
    onnx_model = init_grounder(planted_student['config'], str(out), cfg_options=options,
                               backend='onnxruntime')
    return dict(planted_student, onnx=str(out), stdout=proc.stdout, torch=torch_model,
                ort=onnx_model)


def test_export_tool_checks_parity_and_records_the_graph(student):
    assert 'parity' in student['stdout'] and student['stdout'].strip().endswith('<= 0.0001')
    spec = student['ort'].spec
    assert spec.model_type == 'EMTM' and spec.kind == 'span' and spec.dynamic_batch
    assert spec.max_vlen == 64 and spec.video_dim == 1024
    assert 0 <= spec.parity_max_abs_diff <= TOLERANCE
    names = [i.name for i in student['ort'].session.get_inputs()]
    assert names == ['video', 'video_mask', 'words', 'chars', 'word_mask']
    shapes = {i.name: i.shape for i in student['ort'].session.get_inputs()}
    assert isinstance(shapes['words'][0], str) and isinstance(shapes['words'][1], str)
    assert shapes['video'][1:] == [64, 1024]


def test_the_student_graph_adds_mask_biases_and_runs_2d_convolutions(student):
    """The attention and fusion layers add mask biases (no masked fill, ``Where``) and scale by a
    constant (no run-time ``Pow``); the conv blocks run 2-D convolutions, the only ones ONNX
    Runtime's blocked-layout kernels take."""
    import onnx
    graph = onnx.shape_inference.infer_shapes(onnx.load(student['onnx'])).graph
    layers = ('attention', 'concat', 'conv_block', 'matching', 'predictor')
    slow = [n.name for n in graph.node
            if n.op_type in ('Where', 'Pow') and any(layer in n.name for layer in layers)]
    assert not slow
    ranks = {v.name: len(v.type.tensor_type.shape.dim) for v in graph.value_info}
    convs = [n for n in graph.node if n.op_type == 'Conv' and 'conv_block' in n.name]
    # 2 per layer, 4 layers; the shared block runs on video and query, the predictor's twice
    assert len(convs) == 2 * 4 * 4
    assert {ranks[n.input[0]] for n in convs} == {4}


def test_demo_test_split_same_logits_and_top1_spans(student, monkeypatch):
    """Every query of the demo test split: logits within 1e-4, the same top-1 spans (where two
    spans' scores tie within the logits' difference, either may come first), and the runtime
    decodes PyTorch's logits into exactly PyTorch's spans."""
    model, onnx_model = student['torch'], student['ort']
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    worst, queries = 0.0, 0
    for first in range(0, len(dataset), 64):
        batch = pseudo_collate([dataset[i] for i in range(first, min(first + 64,
                                                                     len(dataset)))])
        inputs = model.data_preprocessor(batch, False)['inputs']
        with torch.no_grad():
            logits, _, _ = model.student_outputs(inputs)
            expected = model.predict_spans(inputs)
        start, end = onnx_model.network_outputs(inputs)
        mask = inputs['video_mask'] > 0
        worst = max(worst, float((start - logits['start_logits'])[mask].abs().max()),
                    float((end - logits['end_logits'])[mask].abs().max()))
        got = onnx_model.predict_spans(inputs)
        for b in range(len(inputs['words'])):
            assert_same_ranking(expected['spans'][b, :1], expected['scores'][b, :1],
                                got['spans'][b, :1], got['scores'][b, :1], **SCORES)
        torch.testing.assert_close(got['start_prob'], expected['start_prob'], atol=1e-5,
                                   rtol=1e-4)
        with monkeypatch.context() as patch:
            patch.setattr(onnx_model, 'network_outputs',
                          lambda _: (logits['start_logits'], logits['end_logits']))
            same_logits = onnx_model.predict_spans(inputs)
        for key in ('spans', 'scores', 'start_prob', 'end_prob'):
            assert torch.equal(same_logits[key], expected[key]), key
        queries += len(inputs['words'])
    assert queries == 309 and worst <= TOLERANCE


def test_video_grounder_same_moments_with_both_backends(student, demo_root, demo_planted,
                                                        monkeypatch):
    records = json.loads((demo_root / 'test.json').read_text())
    video = records[0][0]
    sentences = [r[3] for r in records if r[0] == video][:8]
    features = str(demo_planted / f'{video}.npy')
    answers = []
    for model in (student['torch'], student['ort']):
        grounder = VideoGrounder.from_features(model, features, records[0][1], batch_size=3)
        answers.append(grounder.ground(sentences))
    for a, b in zip(*answers):
        assert_same_ranking([(m.start, m.end) for m in a.moments], [m.score for m in a.moments],
                            [(m.start, m.end) for m in b.moments], [m.score for m in b.moments],
                            **SCORES)
        np.testing.assert_allclose(a.start_prob, b.start_prob, atol=1e-5)
    # The runtime's grounder, its graph replaced by the PyTorch network (the same operations as
    # the student's predict_one_video), gives exactly the PyTorch answers.
    network = export_network(student['torch'])
    with monkeypatch.context() as patch:
        patch.setattr(student['ort'], 'network_outputs',
                      lambda inputs: network(*(inputs[k] for k in INPUTS)))
        same_network = VideoGrounder.from_features(student['ort'], features, records[0][1],
                                                   batch_size=3).ground(sentences)
    for a, b in zip(answers[0], same_network):
        assert [(m.start, m.end, m.score) for m in a.moments] == \
            [(m.start, m.end, m.score) for m in b.moments]
        assert np.array_equal(a.start_prob, b.start_prob)


@pytest.mark.slow
def test_test_tool_same_predictions_from_the_onnx_file(student, tmp_path, run_tool):
    dumps = {}
    for name in ('pth', 'onnx'):
        dumps[name] = tmp_path / f'{name}.json'
        checkpoint = student['checkpoint'] if name == 'pth' else student['onnx']
        run_tool(['tools/test.py', student['config'], checkpoint, '--work-dir',
                  str(tmp_path / name), '--dump', str(dumps[name]), '--cfg-options',
                  *student['options']])
    torch_preds, onnx_preds = (json.loads(dumps[n].read_text()) for n in ('pth', 'onnx'))
    assert len(torch_preds) == len(onnx_preds) == 309
    ties = 0
    for a, b in zip(torch_preds, onnx_preds):
        assert a['query_id'] == b['query_id']
        ties += assert_same_ranking(a['pred_moments'][:1], a['pred_scores'][:1],
                                    b['pred_moments'][:1], b['pred_scores'][:1],
                                    **SCORES) is not None
    assert ties <= 3  # top-1 scores that tie this closely are rare; a fault changes every query


@pytest.mark.parametrize('config', ['configs/teachers/seqpan_tacos_demo.py',
                                    'configs/teachers/scdm_tacos_demo.py',
                                    'configs/teachers/tan2d_tacos_demo.py'])
def test_teachers_export_with_parity_and_decode_alike(config, tmp_path, demo_root, monkeypatch):
    options = {'model.vocab': str(demo_root / 'glove')}
    torch.manual_seed(0)
    model = init_grounder(config, cfg_options=options)
    out = str(tmp_path / 'teacher.onnx')
    report = export_onnx(model, out, length=64)
    assert report.max_abs_diff <= TOLERANCE and len(report.cases) >= 3
    onnx_model = init_grounder(config, out, cfg_options=options, backend='onnxruntime')
    assert isinstance(onnx_model, OnnxRuntimeGrounder)
    for batch in export_module.parity_batches(onnx_model.spec, 64):
        queries = batch['words'].shape[0]
        full = dict(batch, video=batch['video'].expand(queries, -1, -1),
                    video_mask=batch['video_mask'].expand(queries, -1))
        with torch.no_grad():
            expected = model.predict_spans(full)
            outputs = export_module.reference_outputs(model, full)
        got = onnx_model.predict_spans(batch)
        # An untrained 2D-TAN's scores lie ~1e-7 apart: there the backends' rounding orders them
        # (map and proposal teachers' scores are graph outputs, within TOLERANCE)
        for b in range(queries):
            assert_same_ranking(expected['spans'][b], expected['scores'][b], got['spans'][b],
                                got['scores'][b], abs=TOLERANCE, **SCORES)
        # the same outputs decode into the same spans
        with monkeypatch.context() as patch:
            patch.setattr(onnx_model, 'network_outputs', lambda _: outputs)
            same_outputs = onnx_model.predict_spans(batch)
        assert torch.equal(same_outputs['spans'], expected['spans'])
        assert torch.equal(same_outputs['scores'], expected['scores'])


def test_broken_parity_fails_loudly_and_writes_nothing(student, tmp_path, monkeypatch):
    out = tmp_path / 'student.onnx'
    out.write_bytes(b'previous')
    reference = export_module.reference_outputs
    monkeypatch.setattr(export_module, 'reference_outputs',
                        lambda model, inputs: tuple(t + 1e-3 for t in reference(model, inputs)))
    with pytest.raises(OnnxParityError, match=r'differs from PyTorch by 0\.001.* > 0\.0001.*'
                       r'nothing was written'):
        export_onnx(student['torch'], str(out))
    assert out.read_bytes() == b'previous'
    assert [p.name for p in tmp_path.iterdir()] == ['student.onnx']


def test_the_backend_follows_the_file_extension(student):
    options = options_dict(student['options'])
    assert isinstance(init_grounder(student['config'], student['onnx'], cfg_options=options),
                      OnnxRuntimeGrounder)
    assert not isinstance(init_grounder(student['config'], student['checkpoint'],
                                        cfg_options=options), OnnxRuntimeGrounder)


def test_bad_onnx_inputs_name_the_file(student, tmp_path):
    options = options_dict(student['options'])
    with pytest.raises(ValueError, match=r"needs backend='torch'"):
        init_grounder(student['config'], student['checkpoint'], cfg_options=options,
                      backend='onnxruntime')
    with pytest.raises(ValueError, match=r"needs backend='onnxruntime'"):
        init_grounder(student['config'], student['onnx'], cfg_options=options, backend='torch')
    with pytest.raises(FileNotFoundError, match=r'missing\.onnx does not exist'):
        init_grounder(student['config'], str(tmp_path / 'missing.onnx'), cfg_options=options,
                      backend='onnxruntime')
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a graph')
    with pytest.raises(ValueError, match=r'ONNX Runtime cannot load .*garbage\.onnx'):
        OnnxRuntimeGrounder(str(garbage))
    foreign = tmp_path / 'foreign.onnx'
    torch.onnx.export(torch.nn.Linear(3, 2), (torch.zeros(1, 3), ), str(foreign), dynamo=False)
    with pytest.raises(ValueError, match=r'foreign\.onnx is not an ONNX file exported by mmemtm'):
        OnnxRuntimeGrounder(str(foreign))
    with pytest.raises(ValueError, match=r'student\.onnx holds a EMTM graph, the config builds '
                       r'a SeqPANGrounder'):
        OnnxRuntimeGrounder(student['onnx'], model_type='SeqPANGrounder')
    with pytest.raises(ValueError, match=r'grid of 64 clips, the config.s model has '
                       r'data_preprocessor\.max_vlen=32'):
        OnnxRuntimeGrounder(student['onnx'], data_preprocessor=dict(
            type='GroundingDataPreprocessor', max_vlen=32))
    with pytest.raises(ValueError, match=r'grid of 64 clips, the config.s model has '
                       r'max_vlen=128'):
        OnnxRuntimeGrounder(student['onnx'], max_vlen=128,
                            data_preprocessor=dict(type='GroundingDataPreprocessor'))
    filled = OnnxRuntimeGrounder(student['onnx'],
                                 data_preprocessor=dict(type='GroundingDataPreprocessor'))
    assert filled.data_preprocessor.max_vlen == 64
    model = student['ort']
    words = torch.full((1, 3), model.spec.num_words)
    inputs = dict(video=torch.zeros(1, 64, 1024), video_mask=torch.ones(1, 64), words=words,
                  chars=torch.ones(1, 3, 5, dtype=torch.long), word_mask=torch.ones(1, 3))
    with pytest.raises(ValueError, match=r'student\.onnx: word ids must lie in'):
        model.predict_spans(inputs)
    with pytest.raises(ValueError, match=r'expects video features \[B, L, 1024\]'):
        model.predict_spans(dict(inputs, video=torch.zeros(1, 64, 16), words=words - 1))
    with pytest.raises(NotImplementedError, match='inference graph'):
        model.loss(inputs)


def test_demo_tool_prints_the_same_moments_from_the_onnx_file(student, shared_data, demo_planted,
                                                              demo_root, tmp_path, capsys,
                                                              load_tool):
    demo = load_tool('tools/demo.py')
    video = json.loads((demo_root / 'test.json').read_text())[0][0]
    printed = []
    for checkpoint in (student['checkpoint'], student['onnx']):
        demo.main([str(shared_data / 'videos' / 'charades' / '3MSZA.mp4'), 'he took out a pan',
                   'he washed the pan', '--config', student['config'], '--checkpoint',
                   checkpoint, '--features', str(demo_planted / f'{video}.npy'),
                   '--out', str(tmp_path / 'demo.png'), '--cfg-options', *student['options']])
        printed.append([line.split('score') for line in capsys.readouterr().out.splitlines()
                        if line.strip()[:2] in ('1.', '2.', '3.')])
    assert len(printed[0]) == len(printed[1]) == 6
    ties = 0
    for first in (0, 3):  # two sentences, three ranked moments each (scores printed to 1e-4)
        (pth, pth_scores), (onnx, onnx_scores) = (
            zip(*[(moment, float(score)) for moment, score in lines[first:first + 3]])
            for lines in printed)
        ties += assert_same_ranking(pth, pth_scores, onnx, onnx_scores, rel=SCORES['rel'],
                                    abs=1.5e-4) is not None
    assert ties <= 1  # a fault would change both sentences
    assert (tmp_path / 'demo.png').is_file()
