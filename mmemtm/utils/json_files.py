"""Strict reading of JSON files that people edit or download.

:func:`read_json` accepts a UTF-8 byte-order mark, refuses an object that holds one key twice
(``json`` would silently keep the last value: queries of a video vanish, a duration changes), and
turns every failure of the parser (bad syntax, a 5000-digit integer, nesting too deep for the
parser) into a :class:`JsonFileError` naming the file.
"""
import json
import sys
from typing import Any, List, Tuple


class JsonFileError(ValueError):
    """A JSON file cannot be read; the message names the file and, if known, the key.

    Attributes:
        path (str): The file. reason (str): What is wrong, without the file name.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f'{path}: {reason}')
        self.path = path
        self.reason = reason


class _DuplicateKey(ValueError):

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: List[Tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def read_json(path: str) -> Any:
    """The content of the JSON file ``path`` (UTF-8, with or without a byte-order mark).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        JsonFileError: The file is unreadable, not UTF-8, not valid JSON, holds an object with a
            repeated key (named), a number the parser refuses, or nests too deep.
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise JsonFileError(path, f'not UTF-8 ({exc})') from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise JsonFileError(path, f'key {exc.key!r} appears twice in one object (the later entry '
                            'would silently replace the earlier one)') from None
    except RecursionError:
        raise JsonFileError(path, 'JSON nested too deep to read') from None
    except json.JSONDecodeError as exc:
        raise JsonFileError(path, str(exc)) from exc
    except ValueError as exc:  # int() of a number with more digits than Python converts
        raise JsonFileError(path, f'a number has more than {sys.get_int_max_str_digits()} '
                            'digits') from exc
