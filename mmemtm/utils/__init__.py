from .benchmark import format_table, machine_info, processor_name
from .io import atomic_write, dump_json_atomic, save_npy_atomic

__all__ = [
    'atomic_write', 'dump_json_atomic', 'save_npy_atomic', 'format_table', 'machine_info',
    'processor_name'
]
