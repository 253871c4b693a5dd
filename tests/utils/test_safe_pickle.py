"""mmemtm.utils.load_data_pickle: arrays, tensors and containers load; nothing else runs."""
import io
import logging
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from mmemtm.utils import UntrustedPickleError, load_data_pickle


def write(path, obj, protocol=None) -> str:
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return str(path)


@pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
def test_arrays_tensors_and_containers_load_in_every_protocol(tmp_path, protocol):
    content = [('v1', torch.ones(2, 3)), ('v2', np.arange(6.).reshape(2, 3)),
               {'valid_len': np.int64(3), 'logits': torch.eye(2).double()[1:], 'ok': True},
               (None, 1.5, 'text', b'bytes')]
    loaded = load_data_pickle(write(tmp_path / 'data.pkl', content, protocol))
    assert loaded[0][0] == 'v1' and torch.equal(loaded[0][1], content[0][1])
    np.testing.assert_array_equal(loaded[1][1], content[1][1])
    assert loaded[2]['valid_len'] == 3 and torch.equal(loaded[2]['logits'], content[2]['logits'])
    assert loaded[3] == content[3]


def test_a_pickle_that_runs_code_is_refused(tmp_path, payload):
    path = write(tmp_path / 'evil.pkl', [('v1', payload)])
    with pytest.raises(UntrustedPickleError, match=r'evil\.pkl: refusing to unpickle '
                       r'(posix|nt)\.system: .* use trust=True'):
        load_data_pickle(path)
    with pytest.raises(UntrustedPickleError, match='use --trust-pickle'):
        load_data_pickle(path, opt_in='--trust-pickle')
    assert not payload.marker.exists()


class InStorageBytes:
    """Pickles as ``torch.storage._load_from_bytes(data)``, the way a tensor's storage does."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self):
        return torch.storage._load_from_bytes, (self.data,)


def test_code_hidden_in_a_tensor_storage_is_refused(tmp_path, payload):
    """A pickled tensor's storage is a torch.save payload: it is read with weights_only=True."""
    hidden = io.BytesIO()
    torch.save(payload, hidden, _use_new_zipfile_serialization=False)
    path = write(tmp_path / 'forged.pkl', [('v1', InStorageBytes(hidden.getvalue()))])
    with pytest.raises(pickle.UnpicklingError, match=r'(posix|nt)\.system'):
        load_data_pickle(path)
    assert not payload.marker.exists()


def test_trusted_pickles_load_any_object_with_a_warning(tmp_path):
    path = write(tmp_path / 'params.pkl', [('v1', torch.nn.Parameter(torch.ones(2, 3)))])
    with pytest.raises(UntrustedPickleError, match=r'torch\._utils\._rebuild_parameter'):
        load_data_pickle(path)
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    MMLogger.get_current_instance().addHandler(handler)
    try:
        loaded = load_data_pickle(path, trust=True)
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert isinstance(loaded[0][1], torch.nn.Parameter)
    assert [r.getMessage() for r in records] == [
        f'{path} is fully unpickled (trusted): it can run any code']


def nest(depth, fanout):
    node = [0.5] * fanout
    for _ in range(depth - 1):
        node = [node] * fanout
    return node


def test_shared_references_count_at_every_place_and_are_refused_at_once(tmp_path):
    """A few hundred bytes of pickle memo describing 10**12 leaves: refused (trusted or not)
    without walking them, naming the file; a large tree of real size loads."""
    import time
    from mmemtm.utils.safe_pickle import DataPickleTooLargeError
    path = write(tmp_path / 'bomb.pkl', [('v1', nest(12, 10))])
    assert (tmp_path / 'bomb.pkl').stat().st_size < 1000
    for trust in (False, True):
        tic = time.perf_counter()
        with pytest.raises(DataPickleTooLargeError, match=r'bomb\.pkl: more than 10,000,000 '
                           'elements'):
            load_data_pickle(path, trust=trust)
        assert time.perf_counter() - tic < 5
    wide = [[float(i)] * 100 for i in range(10_000)]  # a million distinct floats
    assert len(load_data_pickle(write(tmp_path / 'wide.pkl', wide))) == 10_000
    shared = [nest(3, 10)] * 1000  # one object at 1000 places: 1.1 million elements
    assert len(load_data_pickle(write(tmp_path / 'shared.pkl', shared))) == 1000
    with pytest.raises(DataPickleTooLargeError, match='more than 1,000,000 elements'):
        load_data_pickle(str(tmp_path / 'shared.pkl'), max_elements=1_000_000)


def test_deep_and_self_referencing_pickles_are_refused(tmp_path):
    from mmemtm.utils.safe_pickle import DataPickleTooLargeError
    with pytest.raises(DataPickleTooLargeError, match=r'deep\.pkl: containers nested more '
                       'than 32 deep'):
        load_data_pickle(write(tmp_path / 'deep.pkl', nest(33, 1)))
    assert load_data_pickle(write(tmp_path / 'ok.pkl', nest(32, 1)))
    loop = []
    loop.append(loop)
    with pytest.raises(DataPickleTooLargeError, match=r'loop\.pkl: a list holds itself'):
        load_data_pickle(write(tmp_path / 'loop.pkl', {'curves': loop}))
    objects = np.empty(2, dtype=object)
    objects[0] = objects[1] = nest(8, 10)
    with pytest.raises(DataPickleTooLargeError, match='more than 10,000,000'):
        load_data_pickle(write(tmp_path / 'objects.pkl', objects), trust=True)
