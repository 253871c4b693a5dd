"""tools/demo.py end to end on a real Charades video: I3D features from the video file, a grounder
trained on planted features, printed moments and a figure."""
import pytest
from PIL import Image


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
