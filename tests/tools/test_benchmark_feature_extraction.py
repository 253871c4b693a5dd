import cv2
import numpy as np
import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.apis.feature_extraction import ClipFeatureExtractor, ClipFeatureRecipe


class MeanColour(torch.nn.Module):
    feature_dim = 3

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return clips


def test_benchmark_video_reports_stages_and_real_time_factors(tmp_path, load_tool):
    tool = load_tool('tools/analysis/benchmark_feature_extraction.py')
    path = str(tmp_path / 'v.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'FFV1'), 12.0, (96, 72))
    for i in range(30):
        writer.write(np.full((72, 96, 3), 8 * i, np.uint8))
    writer.release()
    recipe = ClipFeatureRecipe(window=8, stride=8, short_side=64, crop_size=56)
    result = tool.benchmark_video(ClipFeatureExtractor(MeanColour(), recipe), path, repeat=2,
                                  bf16=True)
    assert result['video_seconds'] == pytest.approx(2.5)
    assert result['clips'] == 8  # 60 frames at 24 fps in clips of 8
    stages = [result[f'{s}_s'] for s in ('decode', 'preprocess', 'network')]
    assert all(s > 0 for s in stages) and sum(stages) <= result['total_s']
    assert result['total_rtf'] == pytest.approx(2.5 / result['total_s'])
    assert result['network_rtf'] == pytest.approx(2.5 / result['network_s'])
    assert result['cpu_per_video_s'] == pytest.approx(result['cpu_s'] / 2.5)
    assert result['cpu_utilisation'] == pytest.approx(result['cpu_s'] / result['total_s'])
    assert len(result['load_average_1min']) == 2 and len(result['load_average_1min'][0]) == 2
    low = result['bf16']  # mean colours survive bfloat16 within its 8-bit mantissa
    assert 0.999 < low['cosine_mean'] <= 1.0 + 1e-6 and low['cosine_min'] > 0.999
    assert low['network_speedup'] > 0 and low['total_rtf'] == pytest.approx(
        2.5 / low['total_s'])
    assert 'CPU s per video s' in tool.describe(result)
