"""The models on each backend: eager PyTorch per device, and ONNX Runtime running the graph
exported by :func:`mmemtm.deployment.export_onnx`."""
import copy
import os.path as osp
from typing import Any, Callable, Dict, List, Tuple

import torch

from mmemtm.deployment import OnnxRuntimeGrounder, export_network, export_onnx
from mmemtm.models.grounders import BaseGrounder
from .options import BenchmarkOptions


def backend_name(device: str) -> str:
    """``torch`` on the CPU, ``torch-<device>`` elsewhere."""
    return 'torch' if device == 'cpu' else f'torch-{device}'


def unique_models(models: Dict[str, BaseGrounder]) -> List[BaseGrounder]:
    return list({id(m): m for m in models.values()}.values())


def models_on(models: Dict[str, BaseGrounder], device: str) -> Dict[str, BaseGrounder]:
    """``models`` on ``device``: themselves on the CPU, copies elsewhere (every backend's models
    are timed side by side, so each keeps its own)."""
    if device == 'cpu':
        return models
    copies = {id(m): copy.deepcopy(m).to(device) for m in unique_models(models)}
    return {key: copies[id(model)] for key, model in models.items()}


def network_call(model: BaseGrounder, inputs: Dict[str, torch.Tensor]) -> Callable[[], Any]:
    """The network alone (no decoding): the export network's forward in PyTorch, the graph's
    run in ONNX Runtime."""
    if isinstance(model, OnnxRuntimeGrounder):
        return lambda: model.network_outputs(inputs)
    network = export_network(model)
    tensors = tuple(inputs[k] for k in ('video', 'video_mask', 'words', 'chars', 'word_mask'))
    return lambda: network(*tensors)


def export_backend_models(models: Dict[str, BaseGrounder], setting: str,
                          options: BenchmarkOptions) -> Tuple[Dict[str, OnnxRuntimeGrounder],
                                                              Dict[str, Any]]:
    """``models`` exported to ``onnx_dir`` (parity-checked) and loaded in ONNX Runtime with
    ``threads`` threads; and per model the file and its parity."""
    grounders, exports = {}, {}
    for key in models:
        path = osp.join(options.onnx_dir, f'{setting}_{key}.onnx')
        report = export_onnx(models[key], path, num_threads=options.threads)
        grounder = OnnxRuntimeGrounder(path, options.threads, data_preprocessor=dict(
            type='GroundingDataPreprocessor', max_vlen=models[key].data_preprocessor.max_vlen))
        grounders[key] = grounder.eval()
        exports[key] = dict(file=path, parity_max_abs_diff=report.max_abs_diff)
    return grounders, exports


def encodes_video_once(model: BaseGrounder) -> bool:
    """Whether ``predict_one_video`` encodes the video once for all queries (EMTM's student, in
    PyTorch or in its exported graph)."""
    if isinstance(model, OnnxRuntimeGrounder):
        return model.spec.model_type == 'EMTM'
    return type(model).predict_one_video is not BaseGrounder.predict_one_video
