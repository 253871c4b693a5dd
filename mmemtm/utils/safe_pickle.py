"""Unpickling of data files (teacher outputs, reference curve lists) without running their code.

A pickle can call any importable function while it is loaded. :func:`load_data_pickle` only
resolves the globals that numpy arrays, numpy scalars and torch tensors need (lists, tuples,
dicts, strings and numbers need none) and refuses every other one with
:class:`UntrustedPickleError`, which names the file and the global. ``trust=True`` unpickles
fully, with a warning, for files that hold other objects and that you trust.
"""
import codecs
import collections
import io
import logging
import pickle
from typing import Any, BinaryIO, Callable, Dict, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from numpy._core import multiarray, numeric


class UntrustedPickleError(pickle.UnpicklingError):
    """A data pickle refers to a global outside the allowlist; the message names the file, the
    global and how to trust the file."""


def _storage_from_bytes(data: bytes) -> Any:
    """``torch.storage._load_from_bytes`` (how a pickled tensor stores its data) read with
    ``weights_only=True`` onto the CPU, instead of torch's full unpickling."""
    return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)


#: ``(module, name)`` in the pickle -> object: everything a pickle of numpy arrays or torch
#: tensors in plain containers needs, with numpy 1.x module names too.
DATA_PICKLE_GLOBALS: Dict[Tuple[str, str], Callable] = {
    ('numpy._core.multiarray', '_reconstruct'): multiarray._reconstruct,
    ('numpy.core.multiarray', '_reconstruct'): multiarray._reconstruct,
    ('numpy._core.multiarray', 'scalar'): multiarray.scalar,
    ('numpy.core.multiarray', 'scalar'): multiarray.scalar,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    # arrays in pickle protocol 5
    ('numpy._core.numeric', '_frombuffer'): numeric._frombuffer,
    ('numpy.core.numeric', '_frombuffer'): numeric._frombuffer,
    # pickle protocols 0-2 store bytes (array data) as _codecs.encode(text, 'latin1')
    ('_codecs', 'encode'): codecs.encode,
    # a pickled tensor: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
    # OrderedDict() of backward hooks), its storage saved by torch.save inside the pickle
    ('torch._utils', '_rebuild_tensor_v2'): torch._utils._rebuild_tensor_v2,
    ('torch.storage', '_load_from_bytes'): _storage_from_bytes,
    ('collections', 'OrderedDict'): collections.OrderedDict,
}


class DataUnpickler(pickle.Unpickler):
    """Unpickles arrays, tensors and plain containers; refuses every other global.

    Args:
        file: The open pickle.
        path: Its name, for the messages.
        opt_in: How the caller trusts a file, for the messages (e.g. ``'--trust-pickle'``).
    """

    def __init__(self, file: BinaryIO, path: str, opt_in: str = 'trust=True') -> None:
        super().__init__(file)
        self.path = path
        self.opt_in = opt_in

    def find_class(self, module: str, name: str) -> Any:
        found = DATA_PICKLE_GLOBALS.get((module, name))
        if found is None:
            raise UntrustedPickleError(
                f'{self.path}: refusing to unpickle {module}.{name}: data pickles may hold only '
                'numpy arrays, torch tensors and plain containers (other objects can run code '
                f'when unpickled); if you made the file or trust its source, use {self.opt_in}')
        return found


def load_data_pickle(path: str, trust: bool = False, opt_in: str = 'trust=True') -> Any:
    """The content of a pickle file of arrays, tensors (loaded onto the CPU) and containers.

    Args:
        path: The file.
        trust: Unpickle fully (any object; the file can run code), with a warning.
        opt_in: How the caller sets ``trust``, named in the refusal message.

    Raises:
        UntrustedPickleError: Without ``trust``, the file refers to another global.
    """
    with open(path, 'rb') as f:
        if not trust:
            return DataUnpickler(f, path, opt_in).load()
        print_log(f'{path} is fully unpickled (trusted): it can run any code', logger='current',
                  level=logging.WARNING)
        return pickle.load(f)
