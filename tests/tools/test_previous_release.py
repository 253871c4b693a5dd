"""The previous release's eager path (tools/analysis/previous_release.py, the baseline of the
end-to-end speed goal) gives this release's outputs, and really runs the previous layer code."""
import importlib.util
from pathlib import Path

import torch

from mmemtm.deployment import export_network
from mmemtm.models import EMTM
from mmemtm.models.layers import ConvBlock, MaskedSelfAttention
from mmemtm.models.utils import decode_spans

REPO_ROOT = Path(__file__).resolve().parents[2]
GLOVE = str(REPO_ROOT / 'demo' / 'data' / 'tacos_subset' / 'glove')


def _tool_module(name: str):
    spec = importlib.util.spec_from_file_location(
        name, REPO_ROOT / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


previous_release = _tool_module('previous_release')
previous_release_decode_spans = previous_release.previous_release_decode_spans
previous_release_layers = previous_release.previous_release_layers


def _student() -> EMTM:
    torch.manual_seed(0)
    model = EMTM(vocab=GLOVE, max_vlen=12, video_dim=8, dim=16, num_heads=2, drop_rate=0.0,
                 encoder=dict(type='QueryVideoEncoder', char_dim=8), num_teachers=0)
    model.init_weights()
    return model.eval()


def _tensors():
    gen = torch.Generator().manual_seed(1)
    video_mask = torch.ones(2, 12)
    video_mask[1, 8:] = 0
    word_mask = torch.ones(2, 5)
    word_mask[0, 3:] = 0
    return (torch.randn(2, 12, 8, generator=gen), video_mask,
            torch.randint(2, 50, (2, 5), generator=gen),
            torch.randint(2, 30, (2, 5, 4), generator=gen), word_mask)


def test_the_previous_layers_run_and_give_the_same_logits():
    model = _student()
    network, tensors = export_network(model), _tensors()
    calls = []
    model.encoder.encoder.conv_block.depthwise[0].register_forward_hook(
        lambda *args: calls.append(1))
    forwards = (ConvBlock.forward, MaskedSelfAttention.forward)
    with torch.no_grad():
        new = network(*tensors)
        assert not calls  # this release uses the Conv1d weights, not the modules
        with previous_release_layers():
            old = network(*tensors)
    assert calls  # the previous ConvBlock ran its Conv1d modules
    assert (ConvBlock.forward, MaskedSelfAttention.forward) == forwards
    for a, b in zip(old, new):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_the_previous_decoding_gives_the_vectorised_spans():
    torch.manual_seed(0)
    mask = torch.ones(4, 48)
    mask[1, 30:] = 0
    start, end = torch.randn(4, 48) * 3, torch.randn(4, 48) * 3
    for max_len in (None, 6):
        old = previous_release_decode_spans(start, end, mask, 5, 0.5, max_len)
        new = decode_spans(start, end, mask, 5, 0.5, max_len)
        for key in ('spans', 'scores', 'start_prob', 'end_prob'):
            torch.testing.assert_close(old[key], new[key], rtol=0, atol=0)
