"""Pre-extracted clip features: a folder of ``.npy`` files or one HDF5 file.

* Folder: ``<root>/<video_id>.npy`` of shape ``[n_clips, dim]``, plus ``feature_shapes.json``
  (``{video_id: n_clips}``) when available (it lets datasets check every video without opening
  its file).
* HDF5: one file, one dataset ``[n_clips, dim]`` per video id at the top level.
"""
import abc
import functools
import numbers
import os.path as osp
from typing import Any, Dict, Optional

import numpy as np

from mmemtm.utils import JsonFileError, UnsafeNameError, path_in_folder, read_json
from mmemtm.utils.npy_files import NpyFileError, load_npy

#: Largest absolute feature value accepted: clip features are of order 1 to 100; values far
#: beyond overflow the model's float32 products into inf and NaN scores.
MAX_ABS_FEATURE = 1e6


class FeatureError(ValueError):
    """Features are missing or malformed; the message names the file and the video."""


class ClipFeatureStore(abc.ABC):
    """Common interface: :meth:`has`, :meth:`num_clips` and :meth:`load` by video id."""

    path: str

    @abc.abstractmethod
    def has(self, video_id: str) -> bool:
        """Whether features of ``video_id`` are stored."""

    @abc.abstractmethod
    def num_clips(self, video_id: str) -> int:
        """Number of clips stored for ``video_id``."""

    @abc.abstractmethod
    def load(self, video_id: str) -> np.ndarray:
        """Raw features ``[n_clips, dim]`` of ``video_id``."""

    def location(self, video_id: str) -> str:
        """Human-readable place of a video's features, for error messages."""
        return f'{self.path}[{video_id}]'

    def load_checked(self, video_id: str, feature_dim: Optional[int] = None) -> np.ndarray:
        """Features ``[n_clips, dim]`` as float32, checked for shape and finite values."""
        if not self.has(video_id):
            raise FeatureError(f'no features for video {video_id}: {self.location(video_id)} '
                               'does not exist')
        try:
            raw = np.asarray(self.load(video_id))
        except FeatureError:
            raise
        except NpyFileError as exc:
            raise FeatureError(f'cannot read features {exc}') from None
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise FeatureError(f'cannot read features {self.location(video_id)}: '
                               f'{type(exc).__name__}: {exc or "empty file"}') from exc
        feats = check_features(raw, self.location(video_id), feature_dim)
        self._check_count(video_id, feats.shape[0])
        return feats

    def _check_count(self, video_id: str, clips: int) -> None:
        """Hook: compare the clips read with a recorded count (nothing recorded here)."""


def check_features(raw: np.ndarray, location: str,
                   feature_dim: Optional[int] = None) -> np.ndarray:
    """``raw`` as float32 ``[n_clips, dim]``, refused (:class:`FeatureError` naming
    ``location``) unless real, 2-D, of ``feature_dim`` columns and finite, of magnitude at most
    :data:`MAX_ABS_FEATURE`."""
    if raw.dtype.kind not in 'fiu':
        raise FeatureError(f'features {location} must be real numbers, got dtype {raw.dtype}')
    feats = raw.astype(np.float32, copy=False)
    if feats.ndim != 2 or feats.shape[0] < 1:
        raise FeatureError(f'features {location} must be [n_clips, dim], got shape '
                           f'{feats.shape}')
    if feature_dim is not None and feats.shape[1] != feature_dim:
        raise FeatureError(f'features {location} have dim {feats.shape[1]}, expected '
                           f'{feature_dim}')
    if not np.isfinite(feats).all():
        raise FeatureError(f'features {location} contain NaN or inf')
    largest = float(np.abs(feats).max())
    if largest > MAX_ABS_FEATURE:
        raise FeatureError(f'features {location} hold values up to {largest:.3g}, beyond '
                           f'+-{MAX_ABS_FEATURE:g}: not clip features (the model would overflow '
                           'to inf and NaN scores)')
    return feats


def load_feature_file(path: str, feature_dim: Optional[int] = None) -> np.ndarray:
    """The features ``[n_clips, dim]`` (float32) of one ``.npy`` file, with the checks of the
    datasets (:meth:`ClipFeatureStore.load_checked`): header against file size, no objects,
    real, 2-D, finite and bounded values.

    Raises:
        FeatureError: Naming the file.
    """
    if not osp.isfile(path):
        raise FeatureError(f'feature file {path} does not exist')
    try:
        raw = load_npy(path)
    except NpyFileError as exc:
        raise FeatureError(f'cannot read features {exc}') from None
    except OSError as exc:
        raise FeatureError(f'cannot read features {path}: {type(exc).__name__}: {exc}') from exc
    return check_features(raw, path, feature_dim)


class NpyFeatureStore(ClipFeatureStore):
    """``<root>/<video_id>.npy`` files, with optional ``feature_shapes.json``."""

    SHAPES_FILE = 'feature_shapes.json'

    def __init__(self, root: str) -> None:
        if not osp.isdir(root):
            raise FeatureError(f'feature folder {root} does not exist')
        self.path = root
        self.shapes: Optional[Dict[str, int]] = None
        shapes_file = osp.join(root, self.SHAPES_FILE)
        if osp.isfile(shapes_file):
            self.shapes = read_shapes_file(shapes_file)

    def location(self, video_id: str) -> str:
        try:
            return path_in_folder(self.path, video_id, '.npy', 'video id')
        except UnsafeNameError as exc:
            raise FeatureError(f'feature folder {self.path}: {exc}') from None

    def has(self, video_id: str) -> bool:
        return osp.isfile(self.location(video_id))

    def num_clips(self, video_id: str) -> int:
        if self.shapes is not None and video_id in self.shapes:
            return self.shapes[video_id]
        try:
            return int(load_npy(self.location(video_id), mmap_mode='r').shape[0])
        except NpyFileError as exc:
            raise FeatureError(f'cannot read features {exc}') from None
        except (OSError, ValueError, EOFError, IndexError) as exc:
            raise FeatureError(f'cannot read features {self.location(video_id)}: '
                               f'{type(exc).__name__}: {exc or "empty file"}') from exc

    def _check_count(self, video_id: str, clips: int) -> None:
        recorded = (self.shapes or {}).get(video_id)
        if recorded is not None and recorded != clips:
            raise FeatureError(
                f'features {self.location(video_id)} have {clips} clips, but '
                f'{osp.join(self.path, self.SHAPES_FILE)} records {recorded} for video '
                f'{video_id}: the folder was changed by hand or by another run; rebuild it')

    def load(self, video_id: str) -> np.ndarray:
        return load_npy(self.location(video_id))


class HDF5FeatureStore(ClipFeatureStore):
    """One HDF5 file keyed by video id; opened lazily (once per data-loader worker)."""

    def __init__(self, path: str) -> None:
        if not osp.isfile(path):
            raise FeatureError(f'feature file {path} does not exist')
        self.path = path
        self._file = None

    @property
    def file(self):
        if self._file is None:
            import h5py
            try:
                self._file = h5py.File(self.path, 'r')
            except OSError as exc:
                raise FeatureError(f'cannot open feature file {self.path}: {exc}') from exc
        return self._file

    def __getstate__(self) -> dict:
        return dict(path=self.path, _file=None)

    def has(self, video_id: str) -> bool:
        return video_id in self.file

    def _dataset(self, video_id: str) -> Any:
        import h5py
        node = self.file[video_id]
        if not isinstance(node, h5py.Dataset):
            raise FeatureError(f'features {self.location(video_id)} must be an HDF5 dataset '
                               f'[n_clips, dim], got a {type(node).__name__}')
        return node

    def num_clips(self, video_id: str) -> int:
        shape = self._dataset(video_id).shape
        if not shape:
            raise FeatureError(f'features {self.location(video_id)} must be [n_clips, dim], got '
                               f'shape {shape}')
        return int(shape[0])

    def _check_stored(self, video_id: str, dataset: Any) -> None:
        """Refuse a dataset whose declared shape is not backed by stored data: HDF5 reads
        unwritten parts as the fill value (zeros), and allocates the declared size first."""
        if dataset.dtype.hasobject or dataset.dtype.kind not in 'fiuc':
            return  # check_features names the dtype
        declared = int(np.prod(dataset.shape, dtype=np.float64)) * dataset.dtype.itemsize
        where = f'features {self.location(video_id)}'
        if dataset.external or dataset.is_virtual:
            raise FeatureError(f'{where}: the dataset refers to data outside the file '
                               '(external or virtual storage), which is not read')
        stored = dataset.id.get_storage_size()
        if declared and stored == 0:
            raise FeatureError(f'{where}: the dataset holds no data (created with shape '
                               f'{dataset.shape} but never written; it would read as zeros)')
        if dataset.chunks is None:
            complete = stored >= declared
        else:
            chunks = 1
            for size, chunk in zip(dataset.shape, dataset.chunks):
                chunks *= -(-size // chunk)
            complete = (dataset.id.get_num_chunks() >= chunks and (
                not dataset.compression or declared <= stored * 1032 + 2 ** 20))
        if declared and not complete:
            raise FeatureError(f'{where}: the dataset stores {stored} bytes, but its shape '
                               f'{dataset.shape} ({dataset.dtype}) needs '
                               f'{_size(declared)}: partly written or forged (unwritten parts '
                               'would read as zeros); nothing was allocated')

    def load(self, video_id: str) -> np.ndarray:
        dataset = self._dataset(video_id)
        self._check_stored(video_id, dataset)
        return dataset[()]


def _size(num: float) -> str:
    for unit in ('bytes', 'KiB', 'MiB', 'GiB'):
        if num < 1024:
            return f'{num:.0f} {unit}' if unit == 'bytes' else f'{num:.2f} {unit}'
        num /= 1024
    return f'{num:.2f} TiB'


def existing_clip_count(path: str) -> int:
    """Clips of a feature file a tool found already written (``skip_existing``); an unreadable
    one (zero bytes, truncated, forged header) is a :class:`FeatureError` naming it, not a
    count."""
    try:
        array = load_npy(path, mmap_mode='r')
    except (NpyFileError, OSError) as exc:
        raise FeatureError(f'{exc if isinstance(exc, NpyFileError) else f"{path}: {exc}"}: an '
                           'existing feature file is unreadable; delete it to write it '
                           'again') from None
    if array.ndim != 2 or array.shape[0] < 1:
        raise FeatureError(f'{path}: an existing feature file holds shape {array.shape}, not '
                           '[n_clips, dim]; delete it to write it again')
    return int(array.shape[0])


def read_shapes_file(path: str) -> Dict[str, int]:
    """``{video_id: n_clips}`` of a ``feature_shapes.json``; counts must be positive integers."""
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise FeatureError(f'{path} must map video ids to clip counts: {exc.reason}') from exc
    except OSError as exc:
        raise FeatureError(f'{path} must map video ids to clip counts: {exc}') from exc
    if not isinstance(data, dict):
        raise FeatureError(f'{path} must map video ids to clip counts: got a '
                           f'{type(data).__name__}')
    for video_id, count in data.items():
        if (not isinstance(count, numbers.Integral) or isinstance(count, bool) or count < 1):
            raise FeatureError(f'{path}: video {video_id}: the clip count must be a positive '
                               f'integer, got {count!r}')
    return {k: int(v) for k, v in data.items()}


@functools.lru_cache(maxsize=16)
def get_feature_store(path: str) -> ClipFeatureStore:
    """The store for ``path`` (an ``.h5``/``.hdf5`` file or a folder), one per process."""
    if path.endswith(('.h5', '.hdf5')):
        return HDF5FeatureStore(path)
    return NpyFeatureStore(path)
