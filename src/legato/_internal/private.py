"""Files and directories only their owner may read: the store, stored values and the signing key.

Stored values are pickles (code, once loaded) and the store holds run history, logs and
configuration, so nothing Legato creates under ``.legato/`` or its storage root is readable by
other users of the machine, whatever the umask: directories are created 0700, files 0600.
Existing files and directories keep the mode they have (an operator may have chosen it).
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and each missing parent with mode 0700 (existing ones are left as they
    are)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        directory.chmod(DIR_MODE)  # the umask may have removed bits; it never adds any


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def open_private(path: str | Path) -> int:
    """A new file at ``path`` (which must not exist), mode 0600, open for writing."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
