"""Helpers of the benchmark tools: plain-text tables and a description of the machine."""
import datetime
import os
import os.path as osp
import platform
from typing import Any, Dict, List, Optional, Sequence

import mmengine
import torch


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain-text table (no colours or box characters, ready to paste into Markdown code
    blocks): the first column left-aligned, the others right-aligned, a dashed rule under the
    headers."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    if any(len(row) != len(headers) for row in cells):
        raise ValueError(f'every row needs {len(headers)} cells (one per header)')
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: List[str]) -> str:
        return '  '.join(cell.ljust(width) if i == 0 else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(row, widths))).rstrip()

    return '\n'.join([line(cells[0]), '  '.join('-' * w for w in widths)]
                     + [line(row) for row in cells[1:]])


def cpuinfo_field(name: str) -> Optional[str]:
    """The value of the first ``name`` line of ``/proc/cpuinfo`` (None where the file or the
    line is missing)."""
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith(name):
                    return line.split(':', 1)[1].strip()
    return None


def processor_name() -> str:
    """The CPU model (``/proc/cpuinfo``'s ``model name`` where available)."""
    name = cpuinfo_field('model name')
    return name if name is not None else platform.processor() or platform.machine()


#: Vector-instruction flags of ``/proc/cpuinfo`` that change the speed of float32, bfloat16 and
#: int8 kernels (machines of the same model name may differ in them).
SIMD_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile',
              'amx_bf16', 'amx_int8')


def simd_flags() -> List[str]:
    """The :data:`SIMD_FLAGS` this CPU reports (empty where ``/proc/cpuinfo`` is missing)."""
    present = set((cpuinfo_field('flags') or '').split())
    return [flag for flag in SIMD_FLAGS if flag in present]


def machine_info() -> Dict[str, Any]:
    """Date (UTC), processor, its vector instructions (torch's CPU capability and
    :func:`simd_flags`), CPU count, torch threads, library versions and the load average (1, 5,
    15 minutes) now; CUDA device name when CUDA is available."""
    info = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                processor=processor_name(),
                cpu_capability=torch.backends.cpu.get_cpu_capability(),
                simd_flags=simd_flags(), cpu_count=os.cpu_count(),
                torch_threads=torch.get_num_threads(), torch=torch.__version__,
                mmengine=mmengine.__version__, load_average_start=list(os.getloadavg()))
    if torch.cuda.is_available():
        info['cuda_device'] = torch.cuda.get_device_name(0)
    return info
