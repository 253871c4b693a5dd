"""Unpickling of data files (teacher outputs, reference curve lists) without running their code.

A pickle can call any importable function while it is loaded. :func:`load_data_pickle` only
resolves the globals that numpy arrays, numpy scalars and torch tensors need (lists, tuples,
dicts, strings and numbers need none) and refuses every other one with
:class:`UntrustedPickleError`, which names the file and the global. ``trust=True`` unpickles
fully, with a warning, for files that hold other objects and that you trust.

A pickle can also refer to one object many times through its memo: 23 KB can describe a list
nested 12 deep whose every element is the same list, 10**12 leaves that any consumer walking it
(``np.asarray``, a converter) would visit one by one. Whatever the trust, the loaded content must
nest at most ``max_depth`` containers deep and count at most ``max_elements`` elements, each
shared object counted at every place it appears (:func:`check_data_size`); otherwise
:class:`DataPickleTooLargeError` names the file.
"""
import codecs
import collections
import io
import logging
import pickle
from typing import Any, BinaryIO, Callable, Dict, Set, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from numpy._core import multiarray, numeric


class UntrustedPickleError(pickle.UnpicklingError):
    """A data pickle refers to a global outside the allowlist; the message names the file, the
    global and how to trust the file."""


#: Deepest nesting of containers a data pickle may hold (a reference curve list needs 3).
MAX_DEPTH = 32
#: Most elements (container items, each shared one counted wherever it appears; an array is one)
#: a data pickle may hold.
MAX_ELEMENTS = 10_000_000


class DataPickleTooLargeError(pickle.UnpicklingError):
    """A data pickle nests too deep, holds too many elements or refers to itself; the message
    names the file."""


def _children(obj: Any) -> Any:
    if isinstance(obj, dict):
        return [x for item in obj.items() for x in item]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return obj
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        return obj.ravel().tolist()
    return ()


def check_data_size(obj: Any, path: str, max_depth: int = MAX_DEPTH,
                    max_elements: int = MAX_ELEMENTS) -> int:
    """The number of elements of ``obj`` as a tree (a shared object counts at every place it
    appears), computed once per distinct object.

    Raises:
        DataPickleTooLargeError: Naming ``path``: deeper than ``max_depth``, more than
            ``max_elements`` elements, or a container that holds itself.
    """
    sizes: Dict[int, int] = {}
    open_ids: Set[int] = set()
    keep = []  # objects whose ids are in ``sizes`` stay alive, so ids are not reused

    def size(node: Any, depth: int) -> int:
        children = _children(node)
        if not len(children):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_ids:
            raise DataPickleTooLargeError(f'{path}: a {type(node).__name__} holds itself: a '
                                          'data pickle must be a tree of containers')
        if depth >= max_depth:
            raise DataPickleTooLargeError(
                f'{path}: containers nested more than {max_depth} deep; a data pickle holds '
                'arrays or tensors in a few levels of lists, tuples and dicts')
        open_ids.add(key)
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > max_elements:
                raise DataPickleTooLargeError(
                    f'{path}: more than {max_elements:,} elements (lists or objects repeated '
                    'through shared references count at each place they appear, as any reader '
                    'would visit them); store the numbers as arrays or tensors')
        open_ids.discard(key)
        sizes[key] = total
        keep.append(node)
        return total

    return size(obj, 0)


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


def load_data_pickle(path: str, trust: bool = False, opt_in: str = 'trust=True',
                     max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> Any:
    """The content of a pickle file of arrays, tensors (loaded onto the CPU) and containers.

    Args:
        path: The file.
        trust: Unpickle fully (any object; the file can run code), with a warning.
        opt_in: How the caller sets ``trust``, named in the refusal message.
        max_depth: Deepest nesting of containers accepted (trusted or not).
        max_elements: Most elements accepted, as :func:`check_data_size` counts them.

    Raises:
        UntrustedPickleError: Without ``trust``, the file refers to another global.
        DataPickleTooLargeError: The content nests too deep or holds too many elements.
    """
    with open(path, 'rb') as f:
        if not trust:
            content = DataUnpickler(f, path, opt_in).load()
        else:
            print_log(f'{path} is fully unpickled (trusted): it can run any code',
                      logger='current', level=logging.WARNING)
            content = pickle.load(f)
    check_data_size(content, path, max_depth, max_elements)
    return content
