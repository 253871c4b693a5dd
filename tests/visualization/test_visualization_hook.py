"""GroundingVisualizationHook: a figure per test query (tools/test.py --show-dir)."""
import pytest
import torch

from mmaction.registry import HOOKS
from mmemtm.structures import GroundingDataSample
from mmemtm.visualization import GroundingVisualizationHook, query_figure, query_figure_name


def predicted(query_id: str, probabilities: bool = True) -> GroundingDataSample:
    sample = GroundingDataSample(metainfo=dict(
        query_id=query_id, video_id=query_id.split('#')[0], sentence='he takes out a pan.',
        duration=30.0, gt_time=(3.0, 9.0), v_len=10))
    sample.pred_moments = torch.tensor([[3.0, 12.0], [0.0, 30.0]])
    sample.pred_scores = torch.tensor([0.7, 0.1])
    if probabilities:
        sample.start_prob = torch.softmax(torch.arange(10.0), 0)
        sample.end_prob = torch.softmax(-torch.arange(10.0), 0)
    return sample


def test_a_figure_per_query_up_to_the_limit(tmp_path):
    hook = HOOKS.build(dict(type='GroundingVisualizationHook', out_dir=str(tmp_path / 'figs'),
                            max_queries=3))
    assert isinstance(hook, GroundingVisualizationHook)
    hook.before_test(None)
    hook.after_test_iter(None, 0, outputs=[predicted('v1#0'), predicted('v1#1', False)])
    hook.after_test_iter(None, 1, outputs=[predicted('v2#0'), predicted('v2#1')])
    names = sorted(p.name for p in (tmp_path / 'figs').iterdir())
    assert names == ['v1_0.png', 'v1_1.png', 'v2_0.png']
    assert all(p.read_bytes()[:4] == b'\x89PNG' for p in (tmp_path / 'figs').iterdir())


def test_the_figure_shows_the_query_and_the_iou_of_the_top_moment():
    figure = query_figure(predicted('v1#0'))
    assert figure._suptitle.get_text() == ('"he takes out a pan."\n'
                                           'v1#0   IoU of the top moment: 0.67')
    assert query_figure_name('v1#0', 'pdf') == 'v1_0.pdf'


def test_a_negative_limit_is_refused(tmp_path):
    with pytest.raises(ValueError, match='max_queries must be >= 0'):
        GroundingVisualizationHook(str(tmp_path), max_queries=-1)
