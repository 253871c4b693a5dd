"""The resumable-run store of every benchmark: results keyed by everything that changes them.

A result is stored with the settings that produced it (config text, options, input file digests,
epochs, seed, device...) in ``<folder>/<name>/<fingerprint>.json``, where the fingerprint is a hash
of the settings. A changed config, option or input file therefore gives a new key, and an old
result is never silently reused; results of several processes never share a file, so two
benchmark processes can fill one store at once. :func:`run_settings` gathers the settings of a
training run from its resolved config.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import re
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

from mmengine.config import Config

from mmemtm.utils import dump_json_atomic, read_json

_DIGESTS: Dict[Tuple[str, int, int], str] = {}


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes (cached per path, size and modification time)."""
    stat = os.stat(path)
    key = (osp.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        sha = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                sha.update(block)
        _DIGESTS[key] = sha.hexdigest()
    return _DIGESTS[key]


def fingerprint(settings: Dict[str, Any]) -> str:
    """A 16-hex-digit hash of JSON-serialisable ``settings`` (key order does not matter)."""
    text = json.dumps(settings, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


#: Top-level config fields read only when grounding a raw video (which extractor makes its
#: features, the sliding windows of long videos): no training or test on stored features reads
#: them, so they stay out of a run's key.
RAW_VIDEO_FIELDS = ('feature_backbone', 'long_video')


def config_text(cfg: Config) -> str:
    """The resolved config as canonical JSON, without the paths that name the run (work dir,
    the test evaluator's dump file) and the fields of :data:`RAW_VIDEO_FIELDS`."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = ''
    cfg.test_evaluator = dict(cfg.test_evaluator, dump_file=None)
    fields = {k: v for k, v in cfg.to_dict().items() if k not in RAW_VIDEO_FIELDS}
    return json.dumps(fields, sort_keys=True, default=repr)


def run_settings(name: str, path: str, cfg: Config, seed: int, device: str,
                 inputs: Iterable[Any], **extra: Any) -> Dict[str, Any]:
    """Everything that changes the result of a training run of ``cfg``.

    Args:
        name: The run's name (its row).
        path: The config file ``cfg`` was read from.
        cfg: The resolved config of the run (options merged, epochs set).
        seed: The run's seed.
        device: ``'cpu'`` or ``'cuda'``.
        inputs: Input files the config reads (annotations, teacher curves, checkpoints...);
            entries that are not paths (``str``) are skipped.
        **extra: Further settings (e.g. the command-line options the run was made with).

    Returns:
        dict: ``extra`` with ``row``, ``config``, ``config_text`` (:func:`config_text`),
        ``seed``, ``epochs``, ``device`` and ``inputs`` (path -> :func:`file_digest`).
    """
    return dict(extra, row=name, config=path, config_text=config_text(cfg), seed=seed,
                epochs=cfg.train_cfg.max_epochs, device=device,
                inputs={p: file_digest(p) for p in inputs if isinstance(p, str)})


#: Settings that label a run without changing it: the row it is shown as and the file its config
#: was read from (the resolved config itself is ``config_text``).
LABELS = ('row', 'config')


#: Top-level config variables that reach a training run only through the train dataloader's
#: pipeline and the model, which the key holds resolved: a config that restates them (e.g. a
#: child config that lists fewer teachers' curve files in the pipeline it builds) resolves to the
#: same run as one that only overrides the pipeline, so :meth:`ResultStore.find` ignores them.
PIPELINE_VARIABLES = ('teacher_curves', 'curve_root', 'train_pipeline')


def _unlabelled(settings: Dict[str, Any]) -> Dict[str, Any]:
    unlabelled = {k: v for k, v in settings.items() if k not in LABELS}
    if isinstance(unlabelled.get('config_text'), str):
        fields = json.loads(unlabelled['config_text'])
        if isinstance(fields, dict):
            unlabelled['config_text'] = {k: v for k, v in fields.items()
                                         if k not in PIPELINE_VARIABLES}
    return unlabelled


def _slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_') or 'result'


class ResultStore:
    """Results of named runs, each keyed by its settings.

    Args:
        folder: Folder of the store (created when the first result is written).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        # Stored files already parsed, by path and modification time: :meth:`find` scans the
        # store on every miss, and a report looks up every row and seed.
        self._parsed: Dict[Tuple[str, int], dict] = {}

    def key(self, name: str, settings: Dict[str, Any]) -> str:
        """``<name>/<fingerprint>``: the key of a result (also names its run's folder)."""
        return f'{_slug(name)}/{fingerprint(settings)}'

    def path(self, name: str, settings: Dict[str, Any]) -> str:
        return osp.join(self.folder, self.key(name, settings) + '.json')

    def get(self, name: str, settings: Dict[str, Any]) -> Optional[dict]:
        """The result of ``name`` run with exactly ``settings`` (None if there is none)."""
        path = self.path(name, settings)
        return read_json(path)['result'] if osp.isfile(path) else None

    def find(self, name: str, settings: Dict[str, Any]) -> Optional[dict]:
        """:meth:`get`; failing that, the same run stored under other labels (:data:`LABELS`:
        another row name, another config file resolving to the same config, the same config
        restating :data:`PIPELINE_VARIABLES`), so an identical run is never trained twice.
        ``name`` is the run's row (``settings['row']``) or a result derived from it
        (``'mixtures of ' + row``...), matched with results derived alike."""
        found = self.get(name, settings)
        row = settings.get('row')
        if found is not None or not isinstance(row, str) or not name.endswith(row):
            return found
        prefix, target = name[:len(name) - len(row)], _unlabelled(settings)
        for entry in self.entries():
            if (entry['name'] == prefix + str(entry['settings'].get('row'))
                    and _unlabelled(entry['settings']) == target):
                return entry['result']
        return None

    def put(self, name: str, settings: Dict[str, Any], result: dict) -> dict:
        """Store ``result`` of ``name`` with its ``settings`` (atomically); returns it."""
        dump_json_atomic(dict(name=name, settings=settings, result=result),
                         self.path(name, settings), indent=1)
        return result

    def entries(self) -> Iterator[dict]:
        """Every stored ``{name, settings, result}``."""
        if not osp.isdir(self.folder):
            return
        for sub in sorted(os.listdir(self.folder)):
            folder = osp.join(self.folder, sub)
            if osp.isdir(folder):
                for file in sorted(os.listdir(folder)):
                    if file.endswith('.json'):
                        yield self._read(osp.join(folder, file))

    def _read(self, path: str) -> dict:
        key = (path, os.stat(path).st_mtime_ns)
        if key not in self._parsed:
            self._parsed[key] = read_json(path)
        return self._parsed[key]
