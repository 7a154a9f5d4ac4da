"""Where a landing-zone batch goes: its archive directory (copied once) or quarantine (moved).

The archive directory of a batch is a function of the batch alone, its fields and when it arrived
(the newest modification time of its files), never of the moment it is evaluated. So an
evaluation that archived a batch but whose tick was not recorded (a crash, the store away) finds
the same directory on the next look and copies nothing again. A copy is staged beside its target
(``.<name>.<batch_id>.partial``) and renamed into place with a ``.legato-batch`` marker naming the
batch; a directory that holds another batch is never reused. A copy interrupted (by a crash, or
by the time an evaluation may take: large files are copied over several evaluations) resumes
where it stopped, unless the batch's files changed meanwhile.

Files are opened without following symbolic links unless the trigger allows links, and then only
if they resolve inside the landing directory: a file swapped for a link after it was scanned is
refused, not copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from legato.definitions.triggers import FileArrival, template_fields

MARKER = ".legato-batch"
REASON_FILE = "refused.txt"
CHUNK = 1024 * 1024


class Refused(Exception):
    """A batch turned out to be unacceptable while it was being copied (why in ``str()``)."""


class Deferred(Exception):
    """The time for archiving ran out: the copy goes on at the next evaluation."""


def batch_digest(batch_id: str) -> str:
    """``{batch_id}`` of the archive template: a short digest of the batch's fields."""
    return hashlib.sha256(batch_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def stamp(moment: datetime) -> str:
    """``{ts}`` of the archive template: ``20250301T120000Z``."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def arrival(files: Mapping[str, Sequence[int]]) -> datetime:
    """When a batch arrived: the newest modification time of its files ([size, mtime in ns])."""
    return datetime.fromtimestamp(max(state[1] for state in files.values()) / 1e9, UTC)


def archive_batch(
    trigger: FileArrival,
    batch_id: str,
    fields: Mapping[str, str],
    files: Mapping[str, Sequence[int]],
    *,
    deadline: float | None = None,
) -> list[str]:
    """Copy the batch's ``files`` (relative to the landing directory → [size, mtime in ns]) to its
    archive directory, unless it is there already; returns the archived paths, sorted.

    A template (``archive/{tenant}/{ts}/``) names the directory of the batch; its files keep
    their path below the batch's own directory. A plain directory gets ``<ts>-<batch_id>/`` per
    batch, with the files' paths below the landing directory (the layout of earlier versions).
    Past ``deadline`` (``time.monotonic()``), ``Deferred`` is raised and the next call goes on
    where this one stopped."""
    digest = batch_digest(batch_id)
    template = trigger.archive_to or ""
    rels = sorted(files)
    if template_fields(template):
        target = Path(template.format(**fields, ts=stamp(arrival(files)), batch_id=digest))
        base = os.path.commonpath([str(Path(f).parent) for f in rels]) or "."
        names = [os.path.relpath(f, base) for f in rels]
    else:
        target = Path(template) / f"{stamp(arrival(files))}-{digest}"
        names = rels
    if _holds_other(target, batch_id):  # e.g. archive/{tenant}/ for a second batch
        target = target.with_name(f"{target.name}-{digest}")
    paths = [str(target / name) for name in names]
    if _holds(target, batch_id):
        return paths  # archived by an earlier evaluation whose tick was not recorded
    staging = target.with_name(f".{target.name}.{digest}.partial")
    marker = json.dumps({"batch": batch_id, "files": {f: list(files[f]) for f in rels}})
    if _read(staging / MARKER) != marker:  # nothing staged yet, or for files that changed since
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / MARKER).write_text(marker)
    for rel, name in zip(rels, names, strict=True):
        _copy(trigger, rel, staging / name, deadline)
    try:
        staging.rename(target)
    except OSError:
        if not _holds(target, batch_id):
            raise
        shutil.rmtree(staging, ignore_errors=True)  # another evaluation was first
    return paths


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _holds(directory: Path, batch_id: str) -> bool:
    try:
        return bool(json.loads(_read(directory / MARKER) or "{}").get("batch") == batch_id)
    except ValueError:
        return False


def _holds_other(directory: Path, batch_id: str) -> bool:
    return directory.exists() and not _holds(directory, batch_id)


def _copy(trigger: FileArrival, rel: str, destination: Path, deadline: float | None) -> None:
    """Copy one file of the batch, or the rest of it after an interrupted copy (the staging
    marker guarantees the source did not change since)."""
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
        try:
            done = destination.stat()
        except OSError:
            done = None
        if done is not None and (done.st_size, done.st_mtime_ns) == (
            stat.st_size,
            stat.st_mtime_ns,
        ):
            return
        copied = done.st_size if done is not None and done.st_size <= stat.st_size else 0
        destination.parent.mkdir(parents=True, exist_ok=True)
        src.seek(copied)
        with open(destination, "ab" if copied else "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                copied += len(chunk)
                if deadline is not None and time.monotonic() > deadline and copied < stat.st_size:
                    raise Deferred(f"{rel}: {copied} of {stat.st_size} bytes copied")
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
