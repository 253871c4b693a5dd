"""tools/demo.py end to end on a real Charades video: I3D features from the video file, a grounder
trained on planted features, printed moments and a figure."""
import importlib.util
from pathlib import Path

import cv2
import decord
import pytest
import torch
from PIL import Image

from mmemtm.compat import CheckpointTrustError

REPO = Path(__file__).resolve().parents[2]


def last_seconds(video: Path, seconds: float, out: Path) -> Path:
    """The last ``seconds`` of ``video``, written losslessly (FFV1) at its frame rate."""
    reader = decord.VideoReader(str(video), num_threads=1)
    fps = reader.get_avg_fps()
    first = len(reader) - round(seconds * fps)
    frames = reader.get_batch(list(range(first, len(reader)))).asnumpy()
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*'FFV1'), fps,
                             (frames.shape[2], frames.shape[1]))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


@pytest.mark.slow
def test_demo_on_3msza(tmp_path, shared_data, planted_student, i3d_checkpoint, run_tool):
    # The last 7 s of the 31-s video (7 I3D clips instead of 31) hold the true moment of the
    # sentence, 24.3 s - 30.4 s of the full video.
    video = last_seconds(shared_data / 'videos' / 'charades' / '3MSZA.mp4', 7.0,
                         tmp_path / '3MSZA_end.avi')
    out = tmp_path / 'demo.png'
    proc = run_tool(['tools/demo.py', str(video), 'person turn a light on.', '--config',
                     planted_student['config'], '--checkpoint', planted_student['checkpoint'],
                     '--i3d-checkpoint', i3d_checkpoint, '--gt', '0.3', '6.4', '--out',
                     str(out), '--cfg-options', *planted_student['options']])
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
