"""Helpers of the training tests that run tools/train.py in subprocesses (not a test module)."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest


def run_parallel(commands: List[List[str]], cwd: Path, env: dict) -> None:
    """Run ``python tools/train.py ARGS`` for each ARGS side by side; fail on any error."""
    procs = [subprocess.Popen([sys.executable, 'tools/train.py', *args], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for args in commands]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for args, proc, out in zip(commands, procs, outputs):
        if proc.returncode != 0:
            pytest.fail(f'tools/train.py {" ".join(args)} failed:\n{out[-5000:]}')


def final_val_metrics(work_dir: Path, epoch: int) -> Dict[str, float]:
    """Validation metrics of ``epoch`` logged by the newest run in ``work_dir``."""
    run = sorted(p for p in work_dir.iterdir() if (p / 'vis_data' / 'scalars.json').is_file())[-1]
    records = [json.loads(line) for line in
               (run / 'vis_data' / 'scalars.json').read_text().splitlines()]
    val = [r for r in records if 'mIoU' in r and r['step'] == epoch]
    assert len(val) == 1, val
    return {k: v for k, v in val[0].items() if k.startswith(('R', 'mIoU'))}
