"""Deployment: ONNX export of grounders and an ONNX Runtime backend (docs/deployment.md)."""
from .export import (DEFAULT_OPSET, DEFAULT_TOLERANCE, GraphSpec, OnnxParityError, ParityReport,
                     check_parity, create_session, export_onnx, parity_batches)
from .networks import INPUTS, OUTPUTS, export_network, span_feature_map_gather
from .runtime import OnnxRuntimeGrounder, onnx_model_config

__all__ = [
    'DEFAULT_OPSET', 'DEFAULT_TOLERANCE', 'GraphSpec', 'OnnxParityError', 'ParityReport',
    'check_parity', 'create_session', 'export_onnx', 'parity_batches', 'INPUTS', 'OUTPUTS',
    'export_network', 'span_feature_map_gather', 'OnnxRuntimeGrounder', 'onnx_model_config'
]
