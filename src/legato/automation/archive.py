"""Where a landing-zone batch goes: its archive directory (copied once) or quarantine (moved).

The archive directory of a batch is a function of the batch alone, its fields and when it arrived
(the newest modification time of its files), never of the moment it is evaluated. So an
evaluation that archived a batch but whose tick was not recorded (a crash, the store away) finds
the same directory on the next look and copies nothing again. A copy is staged beside its target
(``.<name>.<batch_id>.partial``, resumed file by file if interrupted) and renamed into place with a
``.legato-batch`` marker naming the batch; a directory that holds another batch is never reused.

Files are opened without following symbolic links unless the trigger allows links, and then only
if they resolve inside the landing directory: a file swapped for a link after it was scanned is
refused, not copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from legato.definitions.triggers import FileArrival, template_fields

MARKER = ".legato-batch"
REASON_FILE = "refused.txt"


class Refused(Exception):
    """A batch turned out to be unacceptable while it was being copied (why in ``str()``)."""


def batch_digest(batch_id: str) -> str:
    """``{batch_id}`` of the archive template: a short digest of the batch's fields."""
    return hashlib.sha256(batch_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def stamp(moment: datetime) -> str:
    """``{ts}`` of the archive template: ``20250301T120000Z``."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def archive_batch(
    trigger: FileArrival,
    batch_id: str,
    fields: Mapping[str, str],
    files: list[str],
    arrived: datetime,
) -> list[str]:
    """Copy the batch's ``files`` (relative to the landing directory) to its archive directory,
    unless it is there already; returns the archived paths, in the order of ``files``.

    A template (``archive/{tenant}/{ts}/``) names the directory of the batch; its files keep
    their path below the batch's own directory. A plain directory gets ``<ts>-<batch_id>/`` per
    batch, with the files' paths below the landing directory (the layout of earlier versions)."""
    digest = batch_digest(batch_id)
    template = trigger.archive_to or ""
    if template_fields(template):
        target = Path(template.format(**fields, ts=stamp(arrived), batch_id=digest))
        base = os.path.commonpath([str(Path(f).parent) for f in files]) or "."
        names = [os.path.relpath(f, base) for f in files]
    else:
        target = Path(template) / f"{stamp(arrived)}-{digest}"
        names = list(files)
    if _holds_other(target, batch_id):  # e.g. archive/{tenant}/ for a second batch
        target = target.with_name(f"{target.name}-{digest}")
    paths = [str(target / name) for name in names]
    if _holds(target, batch_id):
        return paths  # archived by an earlier evaluation whose tick was not recorded
    staging = target.with_name(f".{target.name}.{digest}.partial")
    for rel, name in zip(files, names, strict=True):
        _copy(trigger, rel, staging / name)
    (staging / MARKER).write_text(batch_id)
    try:
        staging.rename(target)
    except OSError:
        if not _holds(target, batch_id):
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another evaluation was first
    return paths


def _holds(directory: Path, batch_id: str) -> bool:
    try:
        return (directory / MARKER).read_text() == batch_id
    except OSError:
        return False


def _holds_other(directory: Path, batch_id: str) -> bool:
    return directory.exists() and not _holds(directory, batch_id)


def _copy(trigger: FileArrival, rel: str, destination: Path) -> None:
    """Copy one file of the batch, unless an interrupted copy already did (same size and time)."""
    source = Path(trigger.path, rel)
    real_root = Path(trigger.path).resolve()
    real = source.resolve()
    if real_root not in real.parents:
        raise Refused(f"{rel} leads outside the landing directory (to {real})")
    if not trigger.follow_links and real != real_root / rel:
        raise Refused(f"{rel} became a symbolic link, and links are not followed")
    flags = os.O_RDONLY | (0 if trigger.follow_links else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        if source.is_symlink():
            raise Refused(f"{rel} became a symbolic link, and links are not followed") from exc
        raise
    with os.fdopen(fd, "rb") as src:
        stat = os.fstat(src.fileno())
        with contextlib.suppress(OSError):
            done = destination.stat()
            if (done.st_size, done.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                return
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
    os.utime(destination, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def quarantine_batch(
    trigger: FileArrival,
    batch_id: str,
    where: str,
    files: Iterable[str],
    links: Iterable[str],
    arrived: datetime,
    reason: str,
) -> str:
    """Move a refused batch to ``<quarantine_to>/<ts>-<batch_id>/`` (paths below the landing
    directory kept) with ``refused.txt`` saying why; returns that directory.

    A link is moved itself, never what it points to; a link above the batch's directory ``where``
    (a whole tenant linked elsewhere) is left in place, since moving it would move other
    batches."""
    target = Path(trigger.quarantine_to or "") / f"{stamp(arrived)}-{batch_digest(batch_id)}"
    root = Path(trigger.path)
    items: dict[str, None] = {}
    for rel in files:
        link = next((k for k in links if rel == k or rel.startswith(k + "/")), None)
        if link is None:
            items[rel] = None
        elif link == where or link.startswith(where + "/"):  # the batch's own
            items[link] = None
    target.mkdir(parents=True, exist_ok=True)
    (target / REASON_FILE).write_text(reason + "\n")
    for item in items:
        destination = target / item
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(root / item, destination)
        _remove_empty_parents(root / item, root)
    return str(target)


def _remove_empty_parents(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # not empty (other files, other batches): stop
            return
        parent = parent.parent
