"""A folder of benchmark results, each keyed by everything that changes it.

A result is stored with the settings that produced it (config text, options, input file digests,
epochs, seed, device...) in ``<folder>/<name>/<fingerprint>.json``, where the fingerprint is a hash
of the settings. A changed config, option or input file therefore gives a new key, and an old
result is never silently reused; results of several processes never share a file, so two
benchmark processes can fill one store at once.
"""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Any, Dict, Iterator, Optional, Tuple

from .io import dump_json_atomic
from .json_files import read_json

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


def _slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_') or 'result'


class ResultStore:
    """Results of named runs, each keyed by its settings.

    Args:
        folder: Folder of the store (created when the first result is written).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def path(self, name: str, settings: Dict[str, Any]) -> str:
        return osp.join(self.folder, _slug(name), fingerprint(settings) + '.json')

    def get(self, name: str, settings: Dict[str, Any]) -> Optional[dict]:
        """The result of ``name`` run with exactly ``settings`` (None if there is none)."""
        path = self.path(name, settings)
        return read_json(path)['result'] if osp.isfile(path) else None

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
                        yield read_json(osp.join(folder, file))
