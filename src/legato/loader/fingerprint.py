"""What a loaded project was made of, to see when the code on disk changed under a process that
loaded it (a run worker, the daemon's code server) and must load it again.

A fingerprint maps each file to its modification time: the config file, every module loaded
from under the project root, and every ``*.py`` file under the config's ``paths`` (so a module
added there shows up as a new entry).
"""

from __future__ import annotations

import sys
from pathlib import Path

from legato.loader.config import Settings

Fingerprint = dict[Path, float]


def project_files(settings: Settings) -> list[Path]:
    root = settings.root.resolve()
    files = [Path(settings.source)] if settings.source.endswith(".toml") else []
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not name or "site-packages" in name:
            continue
        path = Path(name).resolve()
        if root in path.parents:
            files.append(path)
    for entry in settings.paths:
        path = (root / entry).resolve()
        if path.is_dir():
            files += path.rglob("*.py")
    return list(dict.fromkeys(files))


def fingerprint(settings: Settings) -> Fingerprint:
    out = {}
    for path in project_files(settings):
        try:
            out[path] = path.stat().st_mtime
        except OSError:  # deleted: the change shows as a missing entry
            continue
    return out


def loaded_at(settings: Settings, since: float) -> Fingerprint:
    """The fingerprint right after loading, or an empty one if a file changed while (or just
    before) it was read, so that the first comparison sees a change and loads again."""
    found = fingerprint(settings)
    return {} if any(mtime >= since - 1.0 for mtime in found.values()) else found
