from .io import (AtomicWriteError, atomic_write, dump_json_atomic, remove_stale_temporaries,
                 save_npy_atomic)
from .json_files import JsonFileError, read_json
from .locks import FolderLock, FolderLockedError, locked_folder
from .paths import UnsafeNameError, check_plain_name, path_in_folder
from .safe_pickle import DataUnpickler, UntrustedPickleError, load_data_pickle

__all__ = [
    'AtomicWriteError', 'atomic_write', 'dump_json_atomic', 'remove_stale_temporaries',
    'save_npy_atomic', 'JsonFileError', 'read_json', 'FolderLock', 'FolderLockedError',
    'locked_folder', 'UnsafeNameError', 'check_plain_name', 'path_in_folder', 'DataUnpickler',
    'UntrustedPickleError', 'load_data_pickle'
]
