"""ONNX Runtime backend: an exported graph behind the :class:`BaseGrounder` interface.

:class:`OnnxRuntimeGrounder` runs the graph written by :func:`mmemtm.deployment.export_onnx` and
decodes its outputs with the functions the PyTorch models use, so ``predict``,
``predict_spans`` and ``predict_one_video`` return the same structures (and, up to float
rounding of the network, the same spans) as the model it was exported from. It is registered
in mmaction's ``MODELS``, so mmengine's test loop can run it from a config
(:func:`onnx_model_config`); ``init_grounder(..., backend='onnxruntime')`` builds it.
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmaction.registry import MODELS

from mmemtm.models.grounders import BaseGrounder
from mmemtm.models.teachers.clip_grid import fractions_to_clip_spans, grid_spans_to_clip_spans
from mmemtm.models.utils import decode_spans, topk_moments, topk_spans
from .export import GraphSpec, create_session, session_output_names
from .networks import INPUTS


def onnx_model_config(model_cfg: dict, onnx_file: str, num_threads: Optional[int] = None
                      ) -> dict:
    """The ``model`` config entry that runs ``onnx_file`` in place of the model of
    ``model_cfg`` (its data preprocessor is kept; its type and clip grid are checked against
    the file's)."""
    return dict(type='OnnxRuntimeGrounder', onnx_file=onnx_file, num_threads=num_threads,
                model_type=model_cfg.get('type'), max_vlen=model_cfg.get('max_vlen'),
                data_preprocessor=model_cfg.get('data_preprocessor'))


@MODELS.register_module()
class OnnxRuntimeGrounder(BaseGrounder):
    """A grounder whose network is an ONNX graph run by ONNX Runtime (CPU).

    Args:
        onnx_file: Graph exported by :func:`mmemtm.deployment.export_onnx`.
        num_threads: ONNX Runtime intra-op threads (default: ``torch.get_num_threads()``).
        model_type: The grounder class the config describes (checked against the file).
        max_vlen: The clip grid the config describes (checked against the file).
        data_preprocessor: Config of the data preprocessor (the model config's); a graph of a
            fixed clip grid fills in its ``max_vlen``, as the models do.
        init_cfg: Unused (no weights to initialise); accepted for mmengine.

    Raises:
        FileNotFoundError: ``onnx_file`` does not exist.
        ValueError: The file was not exported by mmemtm, or does not fit the config (another
            model, clip grid); the message names the file.
    """

    def __init__(self, onnx_file: str, num_threads: Optional[int] = None,
                 model_type: Optional[str] = None, max_vlen: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file {onnx_file} does not exist')
        try:
            session = create_session(onnx_file, num_threads or torch.get_num_threads())
        except Exception as error:  # onnxruntime raises its own exception types
            raise ValueError(f'ONNX Runtime cannot load {onnx_file}: {error}') from error
        spec = GraphSpec.from_metadata(session.get_modelmeta().custom_metadata_map, onnx_file)
        super().__init__(data_preprocessor=self._preprocessor(
            onnx_file, spec, model_type, max_vlen, data_preprocessor), init_cfg=init_cfg)
        self.onnx_file = onnx_file
        self.session = session
        self.spec = spec
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_names = session_output_names(session)

    @staticmethod
    def _preprocessor(onnx_file: str, spec: GraphSpec, model_type: Optional[str],
                      max_vlen: Optional[int], data_preprocessor: Optional[dict]
                      ) -> Optional[dict]:
        """The data preprocessor config, checked against the graph (and its ``max_vlen``
        filled in for a graph of a fixed clip grid)."""
        if model_type is not None and model_type != spec.model_type:
            raise ValueError(f'{onnx_file} holds a {spec.model_type} graph, the config '
                             f'builds a {model_type}')
        if data_preprocessor is None or not spec.max_vlen:
            return data_preprocessor
        padded_to = data_preprocessor.get('max_vlen')
        for name, value in (('max_vlen', max_vlen), ('data_preprocessor.max_vlen', padded_to)):
            if value is not None and value != spec.max_vlen:
                raise ValueError(f'{onnx_file} has a grid of {spec.max_vlen} clips, the '
                                 f'config\'s model has {name}={value}')
        return dict(data_preprocessor, max_vlen=spec.max_vlen)

    @property
    def topk(self) -> int:
        return int(self.spec.decoding['topk'])

    def loss(self, inputs: Dict[str, torch.Tensor], data_samples=None) -> Dict[str, torch.Tensor]:
        raise NotImplementedError(f'{self.onnx_file} is an inference graph; train the PyTorch '
                                  'model and export it again')

    def _feeds(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, np.ndarray]:
        """Checked numpy inputs of the graph (the checks the trace could not keep)."""
        spec, name = self.spec, self.onnx_file
        video, words, chars = inputs['video'], inputs['words'], inputs['chars']
        if video.dim() != 3 or video.shape[-1] != spec.video_dim:
            raise ValueError(f'{name} expects video features [B, L, {spec.video_dim}], got '
                             f'{tuple(video.shape)}')
        if spec.max_vlen and video.shape[1] != spec.max_vlen:
            raise ValueError(f'{name} expects videos padded to {spec.max_vlen} clips, got '
                             f'{video.shape[1]}')
        if video.shape[0] not in (1, words.shape[0]):
            raise ValueError(f'{name}: {video.shape[0]} videos for {words.shape[0]} queries '
                             '(give one video per query, or one for all)')
        if words.numel() and not 0 <= int(words.min()) <= int(words.max()) < spec.num_words:
            raise ValueError(f'{name}: word ids must lie in [0, {spec.num_words}) (the word '
                             f'table of the exported model), got {int(words.max())}; is the '
                             'tokenizer\'s vocabulary the one the model was exported with?')
        if spec.num_chars:
            if chars.shape[-1] < spec.min_chars:
                raise ValueError(f'{name}: words padded to {chars.shape[-1]} characters, fewer '
                                 f'than the {spec.min_chars} the character CNN needs')
            if chars.numel() and not 0 <= int(chars.min()) <= int(chars.max()) < spec.num_chars:
                raise ValueError(f'{name}: character ids must lie in [0, {spec.num_chars})')
        arrays = dict(video=video.float(), video_mask=inputs['video_mask'].float(), words=words,
                      chars=chars, word_mask=inputs['word_mask'].float())
        return {k: arrays[k].detach().cpu().long().numpy() if k in ('words', 'chars')
                else arrays[k].detach().cpu().numpy() for k in INPUTS if k in self.input_names}

    def network_outputs(self, inputs: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """The graph's outputs (:data:`mmemtm.deployment.networks.OUTPUTS`) as CPU tensors.

        ``inputs`` hold one video per query, or one video ``[1, L, Dv]`` for every query. A
        graph of batch 1 runs the queries one by one.
        """
        feeds = self._feeds(inputs)
        if self.spec.dynamic_batch:
            return tuple(torch.from_numpy(out) for out in self.session.run(None, feeds))
        queries = inputs['words'].shape[0]
        runs: List[List[np.ndarray]] = []
        for b in range(queries):
            one = {k: v[b:b + 1] if k not in ('video', 'video_mask') or len(v) > 1 else v
                   for k, v in feeds.items()}
            runs.append(self.session.run(None, one))
        return tuple(torch.from_numpy(np.concatenate(outs)) for outs in zip(*runs))

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked spans decoded as the exported model decodes them (see
        :meth:`BaseGrounder.predict_spans`)."""
        queries = inputs['words'].shape[0]
        video_mask = inputs['video_mask'].expand(queries, -1).cpu()
        outputs = self.network_outputs(inputs)
        decoding, kind = self.spec.decoding, self.spec.kind
        if kind == 'span':
            return decode_spans(outputs[0], outputs[1], video_mask, self.topk,
                                decoding['nms_thr'], decoding['max_span_len'])
        v_len = video_mask.sum(1)
        if kind == 'proposals':
            moments, scores = topk_moments(outputs[1], outputs[0], self.topk,
                                           decoding['nms_thr'])
            return dict(spans=fractions_to_clip_spans(moments, v_len), scores=scores)
        grid_spans, scores = topk_spans(outputs[0], self.topk, decoding['nms_thr'])
        return dict(spans=grid_spans_to_clip_spans(grid_spans, outputs[1], v_len),
                    scores=scores)

    def predict_one_video(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked spans of ``Q`` queries about one video ``[1, L, Dv]``: the graph broadcasts
        the video (EMTM's student encodes it once)."""
        return self.predict_spans(inputs)
