from .benchmark import format_table, machine_info, processor_name
from .io import atomic_write, dump_json_atomic, save_npy_atomic
from .safe_pickle import DataUnpickler, UntrustedPickleError, load_data_pickle

__all__ = [
    'atomic_write', 'dump_json_atomic', 'save_npy_atomic', 'format_table', 'machine_info',
    'processor_name', 'DataUnpickler', 'UntrustedPickleError', 'load_data_pickle'
]
