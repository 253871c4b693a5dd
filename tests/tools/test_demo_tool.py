"""tools/demo.py end to end on a real Charades video: I3D features from the video file, a grounder
trained on planted features, printed moments and a figure."""
import re
from pathlib import Path

import pytest
import torch
from PIL import Image
from video_cuts import last_seconds

from mmemtm.compat import CheckpointTrustError

REPO = Path(__file__).resolve().parents[2]


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


def test_demo_refuses_a_checkpoint_that_runs_code(tmp_path, payload, load_tool):
    demo = load_tool('tools/demo.py')
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': payload}, evil)
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '
                       r'(posix|nt)\.system'):
        demo.main([str(tmp_path / 'video.mp4'), 'a sentence', '--config',
                   str(REPO / 'configs' / 'ablations' / 'student_only_tacos_demo.py'),
                   '--checkpoint', str(evil), '--cfg-options', 'model.dim=32',
                   'model.num_heads=4', 'model.encoder.char_dim=8'])
    assert not payload.marker.exists()


def test_demo_grounds_a_long_video_in_windows(tmp_path, shared_data, capsys, load_tool):
    """--long-video always with 10-s windows over 3MSZA's 31 s (features at 0.5 s per row):
    windows with a progress bar, moments in absolute seconds, a figure. The grounder is a
    randomly initialised student of the CLIP config: only the plumbing is checked."""
    import numpy as np
    from mmemtm.apis import init_grounder
    config = str(REPO / 'configs' / 'ablations' / 'emtm_charades_clip_student_only.py')
    options = ['model.dim=32', 'model.num_heads=4', 'model.encoder.char_dim=8']
    model = init_grounder(config, None, cfg_options=dict(
        (o.split('=')[0], int(o.split('=')[1])) for o in options))
    checkpoint = tmp_path / 'random.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    clip = np.load(shared_data / 'charades_sta' / 'clip_vitl14_vidmorp' / 'features' /
                   '3MSZA.npy').astype(np.float32)
    features = tmp_path / '3MSZA_rate.npy'
    np.save(features, clip[np.floor((np.arange(62) + 0.5) * 64 / 62).astype(int)])
    out = tmp_path / 'long.png'
    load_tool('tools/demo.py').main([
        str(shared_data / 'videos' / 'charades' / '3MSZA.mp4'), 'person turn a light on.',
        '--config', config, '--checkpoint', str(checkpoint), '--features', str(features),
        '--long-video', 'always', '--window', '10', '--out', str(out), '--cfg-options', *options])
    printed = capsys.readouterr().out
    assert '6/6' in printed  # 20-row windows at rows 0, 10, 20, 30, 40 and (the end) 42
    start, end = map(float, re.search(r'  1\.\s+([\d.]+) s -\s+([\d.]+) s', printed).groups())
    assert 0 <= start < end <= 31.0 + 1e-3
    assert out.is_file()
