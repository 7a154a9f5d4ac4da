"""File arrival: find complete batches of files in a landing zone and request runs for them.

A pattern like ``{tenant}/{batch}/*.csv`` names the parts of each path; files with the same
field values form a batch. A batch is complete when every expected file is present (a fixed
list, a function of the fields, or a ``manifest`` file listing them) and, with ``stable_for``,
when no file size changed for that long. Complete batches are optionally copied to a timestamped
archive first, then requested once (the cursor remembers them; the run key dedupes).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import Any

from legato.definitions.triggers import FileArrival
from legato.errors import LegatoError

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for piece in pattern.split("/"):
        text = ""
        pos = 0
        for match in _FIELD.finditer(piece):
            text += fnmatch.translate(piece[pos : match.start()])[4:-3]  # glob part, no anchors
            text += f"(?P<{match.group(1)}>[^/]+)"
            pos = match.end()
        text += fnmatch.translate(piece[pos:])[4:-3]
        parts.append(text)
    return re.compile("^" + "/".join(parts) + "$")


def scan(
    trigger: FileArrival, done: Set[str] = frozenset()
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The batches under the landing path not in ``done`` (batch id → {fields, files: {relative
    path: size}}), and the ids of every batch found there, done ones included.

    Walks exactly as deep as the pattern with ``os.scandir`` (one listing per directory, sizes
    from the listing's cached stat), and does not stat the files of done batches."""
    root = Path(trigger.path)
    regex = _regex(trigger.pattern)
    depth = trigger.pattern.count("/") + 1
    batches: dict[str, dict[str, Any]] = {}
    present: set[str] = set()
    for rel, entry in _walk(str(root), "", depth):
        match = regex.match(rel)
        if match is None:
            continue
        fields = match.groupdict()
        batch_id = json.dumps(fields, sort_keys=True)
        present.add(batch_id)
        if batch_id in done:
            continue
        try:
            size = entry.stat().st_size
        except OSError:  # removed while we looked: the next evaluation sees the batch as it is
            continue
        batches.setdefault(batch_id, {"fields": fields, "files": {}})["files"][rel] = size
    return batches, present


def _walk(directory: str, prefix: str, depth: int) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Files exactly ``depth`` levels below ``directory``, as (relative path, entry)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:  # missing, or vanished meanwhile
        return
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        try:
            if depth == 1:
                if entry.is_file():
                    yield rel, entry
            elif entry.is_dir():
                yield from _walk(entry.path, f"{rel}/", depth - 1)
        except OSError:
            continue


def _expected(
    trigger: FileArrival, fields: Mapping[str, str], files: Mapping[str, int]
) -> list[str]:
    names = {Path(f).name: f for f in files}
    if callable(trigger.expected):
        return list(trigger.expected(fields))
    expected = list(trigger.expected)
    if "manifest" in expected and "manifest" in names:
        listed = (Path(trigger.path) / names["manifest"]).read_text().split()
        return [n for n in expected if n != "manifest"] + listed
    return expected


def evaluate_file_arrival(
    trigger: FileArrival, cursor: str | None, now: datetime
) -> dict[str, Any]:
    state = json.loads(cursor) if cursor else {"done": [], "seen": {}}
    done = set(state["done"])
    seen: dict[str, Any] = state["seen"]
    requests = []
    waiting = []
    batches, present = scan(trigger, done)
    for batch_id, batch in sorted(batches.items()):
        files: dict[str, int] = batch["files"]
        names = {Path(f).name for f in files}
        missing = [n for n in _expected(trigger, batch["fields"], files) if n not in names]
        if missing:
            waiting.append(f"{batch_id}: waiting for {missing[:3]}")
            seen.pop(batch_id, None)
            continue
        if trigger.stable_for:
            previous = seen.get(batch_id)
            if previous is None or previous["files"] != files:
                seen[batch_id] = {"files": files, "since": now.timestamp()}
                waiting.append(f"{batch_id}: sizes changed; waiting until stable")
                continue
            if now.timestamp() - previous["since"] < trigger.stable_for:
                waiting.append(f"{batch_id}: sizes not yet stable for {trigger.stable_for:g} s")
                continue
        requests.append(_request(trigger, batch_id, batch["fields"], sorted(files), now))
        done.add(batch_id)
        seen.pop(batch_id, None)
    # Remember only done batches still on disk, so the cursor does not grow forever; one that
    # comes back under the same name maps to the same run key and starts no second run.
    cursor_out = json.dumps({"done": sorted(done & present), "seen": seen})
    reason = None if requests else ("; ".join(waiting[:5]) or "no new complete batch")
    return {"requests": requests, "cursor": cursor_out, "skip_reason": reason}


def _request(
    trigger: FileArrival, batch_id: str, fields: Mapping[str, str], files: list[str], now: datetime
) -> dict[str, Any]:
    root = Path(trigger.path)
    paths = [str(root / f) for f in files]
    if trigger.archive_to:
        paths = _archive(trigger, batch_id, files, now)
    partition = trigger.partition.format(**fields) if trigger.partition else ""
    dynamic = {trigger.dynamic_set: [fields[trigger.dynamic_set]]} if trigger.dynamic_set else {}
    if trigger.dynamic_set and trigger.dynamic_set not in fields:
        raise LegatoError(
            f"FileArrival dynamic_set {trigger.dynamic_set!r} is not a field of "
            f"{trigger.pattern!r}",
            hint="name a {field} of the pattern",
        )
    return {
        "partition": partition,
        "config": {"files": paths, "batch": dict(fields)},
        "tags": {},
        "key": batch_id,
        "dynamic_partitions": dynamic,
    }


def _archive(trigger: FileArrival, batch_id: str, files: list[str], now: datetime) -> list[str]:
    """Copy the batch to ``archive_to/<timestamp>-<batch>/`` atomically (copy to a temporary
    directory, then rename it)."""
    digest = hashlib.sha256(batch_id.encode()).hexdigest()[:10]
    stamp = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{digest}"
    target = Path(trigger.archive_to or "") / stamp
    staging = target.with_name("." + stamp + ".partial")
    for rel in files:
        destination = staging / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(trigger.path) / rel, destination)
    if target.exists():  # this batch was archived already at this instant: keep that copy
        shutil.rmtree(staging)
    else:
        staging.rename(target)
    return [str(target / rel) for rel in files]
