"""tools/demo.py end to end on a real Charades video: I3D features from the video file, a grounder
trained on planted features, printed moments and a figure."""
import importlib.util
from pathlib import Path

import pytest
import torch
from PIL import Image

from mmemtm.compat import CheckpointTrustError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_on_3msza(tmp_path, shared_data, planted_student, i3d_checkpoint, run_tool):
    out = tmp_path / 'demo.png'
    proc = run_tool(['tools/demo.py', str(shared_data / 'videos' / 'charades' / '3MSZA.mp4'),
                     'person turn a light on.', '--config', planted_student['config'],
                     '--checkpoint', planted_student['checkpoint'], '--i3d-checkpoint',
                     i3d_checkpoint, '--gt', '24.3', '30.4', '--out', str(out),
                     '--cfg-options', *planted_student['options']])
    assert 'PLANTED SYNTHETIC' in proc.stdout
    assert '"person turn a light on."' in proc.stdout and '  1. ' in proc.stdout
    with Image.open(out) as image:
        assert image.size[0] > 600 and image.size[1] > 400


def test_demo_refuses_a_checkpoint_that_runs_code(tmp_path, payload):
    spec = importlib.util.spec_from_file_location('demo', REPO / 'tools' / 'demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, evil)
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '
                       r'(posix|nt)\.system'):
        demo.main([str(tmp_path / 'video.mp4'), 'a sentence', '--config',
                   str(REPO / 'configs' / 'ablations' / 'student_only_tacos_demo.py'),
                   '--checkpoint', str(evil), '--cfg-options', 'model.dim=32',
                   'model.num_heads=4', 'model.encoder.char_dim=8'])
    assert not payload.marker.exists()
