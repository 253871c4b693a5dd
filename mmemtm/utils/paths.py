"""Names that become file paths: a video id from an annotation file must stay in its folder."""
import os
import os.path as osp


class UnsafeNameError(ValueError):
    """A name read from a file would make a path outside its folder; the message names it."""


def check_plain_name(name: str, what: str = 'name') -> str:
    """``name`` if it is a plain file name, else :class:`UnsafeNameError`.

    A plain name is non-empty, holds no path separator (``/``, ``\\``) or NUL byte, and is not
    ``.`` or ``..``; joined to a folder it names a file directly inside that folder.
    """
    if (not isinstance(name, str) or name in ('', '.', '..') or '/' in name or '\\' in name
            or '\0' in name or (os.sep in name) or (os.altsep and os.altsep in name)):
        raise UnsafeNameError(f'{what} {name!r} is not a plain file name (no path separators, '
                              "not '.' or '..'): it would make a path outside its folder")
    return name


#: Longest file name (bytes) of common file systems (ext4, XFS, APFS, NTFS in UTF-16 units).
NAME_MAX = 255


def path_in_folder(folder: str, name: str, suffix: str = '', what: str = 'name') -> str:
    """``<folder>/<name><suffix>``, refusing names that are not plain (:func:`check_plain_name`)
    or whose file name would exceed :data:`NAME_MAX` bytes (no file system could hold it)."""
    file_name = check_plain_name(name, what) + suffix
    size = len(os.fsencode(file_name))
    if size > NAME_MAX:
        raise UnsafeNameError(f'{what} {name[:40]!r}... ({len(name)} characters) is too long for '
                              f'a file name: {file_name[-8:]!r} would make a name of {size} bytes, '
                              f'more than the {NAME_MAX} file systems allow')
    return osp.join(folder, file_name)
