"""Cuts of the real test videos for the tests that run I3D on them (not a test module)."""
from pathlib import Path

import cv2
import decord


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
