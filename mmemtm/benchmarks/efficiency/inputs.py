"""The benchmark's models and synthetic inputs of each setting's shapes."""
import os.path as osp
from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from mmemtm.apis.inference import init_grounder
from mmemtm.datasets.transforms import span_targets
from mmemtm.models.grounders import BaseGrounder
from mmemtm.structures import GroundingDataSample
from mmemtm.text import CharVocabulary
from .options import DEMO_GLOVE, SETTINGS, BenchmarkOptions


def setting_vocab(name: str, options: BenchmarkOptions) -> str:
    """GloVe subset of a setting: the ``vocab`` override, else the default if it exists, else
    the bundled demo GloVe."""
    path = options.vocab.get(name, osp.join(options.root, SETTINGS[name]['vocab']))
    if not osp.isdir(path) and not osp.isfile(path):
        if name in options.vocab:
            raise FileNotFoundError(f'--vocab {name}={path}: no such GloVe subset')
        path = osp.join(options.root, DEMO_GLOVE)
    return osp.abspath(path)


def build_model(config: str, vocab: str, options: BenchmarkOptions) -> BaseGrounder:
    """The model of ``config`` (random weights, eval mode, CPU) with ``model.vocab`` set."""
    cfg_options = dict(options.cfg_options)
    cfg_options['model.vocab'] = vocab
    return init_grounder(osp.join(options.root, config), cfg_options=cfg_options)


def synthetic_batch(model: BaseGrounder, batch: int, shape: Dict[str, int], training: bool,
                    rng: np.random.Generator) -> Dict[str, Any]:
    """A batch ``inputs`` dict made by the model's data preprocessor from packed queries.

    ``shape`` holds ``max_vlen``, ``video_dim``, ``words``, ``chars``, ``vocab_size`` and
    ``num_teachers``. Each query: ``video`` ``[max_vlen, video_dim]`` Gaussian features (every
    clip valid), ``words`` word ids of the vocabulary, ``chars`` ``[words, chars]`` letter ids;
    with ``training``, the targets of a random moment (``span_targets``) and ``num_teachers``
    random positive curves ``[T, 2, max_vlen]``.
    """
    num_chars = len(CharVocabulary.default())
    length, words = shape['max_vlen'], shape['words']
    items, samples = [], []
    for _ in range(batch):
        item = dict(
            video=torch.from_numpy(rng.standard_normal((length, shape['video_dim']),
                                                       dtype=np.float32)),
            words=torch.from_numpy(rng.integers(2, shape['vocab_size'], words)),
            chars=torch.from_numpy(rng.integers(2, num_chars, (words, shape['chars']))))
        sample = GroundingDataSample()
        if training:
            start = rng.uniform(0.0, 0.7)
            span, start_label, end_label, tags = span_targets(
                start, start + rng.uniform(0.05, 0.3), 1.0, length)
            sample.set_field(torch.tensor(span), 'gt_span')
            for key, value in (('start_label', start_label), ('end_label', end_label),
                               ('match_label', tags)):
                sample.set_field(torch.from_numpy(value), key)
            if shape['num_teachers']:
                item['teacher_curves'] = torch.from_numpy(rng.uniform(
                    0.0, 1.0, (shape['num_teachers'], 2, length)).astype(np.float32))
        items.append(item)
        samples.append(sample)
    return model.data_preprocessor(dict(inputs=items, data_samples=samples), training)['inputs']


def one_video_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """:meth:`BaseGrounder.predict_one_video` inputs: the first video once, every query."""
    return dict(video=inputs['video'][:1], video_mask=inputs['video_mask'][:1],
                words=inputs['words'], chars=inputs['chars'], word_mask=inputs['word_mask'])


def repeated_video_inputs(inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The first video repeated for every query (what a model without encode-once runs)."""
    queries = inputs['words'].shape[0]
    return dict(inputs, video=inputs['video'][:1].repeat(queries, 1, 1),
                video_mask=inputs['video_mask'][:1].repeat(queries, 1))


def to_device(inputs: Any, device: str) -> Any:
    if isinstance(inputs, dict):
        return {k: to_device(v, device) for k, v in inputs.items()}
    return inputs.to(device)


def flatten(tree: Dict[str, Any], prefix: Tuple[str, ...] = ()) -> List[Tuple[tuple, Any]]:
    """``[(key path, tensor)]`` of a nested dict of tensors, in sorted key order."""
    leaves = []
    for key in sorted(tree):
        if isinstance(tree[key], dict):
            leaves += flatten(tree[key], prefix + (key, ))
        elif isinstance(tree[key], torch.Tensor):
            leaves.append((prefix + (key, ), tree[key]))
    return leaves
