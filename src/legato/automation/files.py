"""File arrival: find complete batches of files in a landing zone and request runs for them.

A pattern like ``{tenant}/{batch}/*.csv`` names the parts of each path; files with the same
field values form a batch. A batch is requested when:

1. it is complete: every expected file is present (a fixed list, a function of the fields, or a
   ``manifest`` file listing them);
2. it is stable: the size and modification time of each of its files stayed the same for
   ``stable_for`` seconds, seen on two evaluations at least (a file still being written is not
   taken half-written);
3. it is acceptable: no symbolic link on its paths (unless ``follow_links``, and then none that
   leaves the landing directory) and every field that makes a partition key is a valid key.

A batch that fails 3 is refused alone: the cursor records it with its reason (said once, in the
tick history) and leaves it be until its files change; with ``quarantine_to`` it is moved there.
An accepted batch is archived (``legato.automation.archive``) and requested once: the cursor
remembers it, and its run's idempotency key is derived from its fields.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from legato.automation.archive import Deferred, Refused, archive_batch, arrival, quarantine_batch
from legato.automation.evaluation import Evaluation, RequestedRun
from legato.definitions.partitions.keys import check_key
from legato.definitions.triggers import FileArrival, template_fields
from legato.errors import PartitionError

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ARCHIVE_BUDGET = 20.0  # seconds of copying per evaluation; the code server must answer in 60

# (partition key, dynamic keys the run would add) → None, or ("wait" | "refuse", why)
PartitionCheck = Callable[[str, Mapping[str, list[str]]], tuple[str, str] | None]


@dataclass
class Batch:
    """The files of one batch: relative path → [size, mtime in ns]; and its refused links."""

    fields: dict[str, str]
    files: dict[str, list[int]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link → why it is refused

    @property
    def where(self) -> str:
        """The batch's directory under the landing root (its file, for a one-file batch there)."""
        common = os.path.commonpath([str(Path(f).parent) for f in self.files])
        return next(iter(self.files)) if common in ("", ".") else common


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


def scan(trigger: FileArrival, done: Set[str] = frozenset()) -> tuple[dict[str, Batch], set[str]]:
    """The batches under the landing path not in ``done``, by batch id, and the ids of every
    batch found there, done ones included.

    Walks exactly as deep as the pattern with ``os.scandir`` and does not stat the files of done
    batches. Symbolic links are never followed to read a file's state unless ``follow_links``
    allows it; a link on a batch's paths is recorded in ``Batch.links`` with why it is refused."""
    root = trigger.path
    real_root = Path(root).resolve()
    regex = _regex(trigger.pattern)
    batches: dict[str, Batch] = {}
    present: set[str] = set()
    for rel, entry, link in _walk(root, "", trigger.pattern.count("/") + 1, None):
        match = regex.match(rel)
        if match is None:
            continue
        fields = match.groupdict()
        batch_id = json.dumps(fields, sort_keys=True)
        present.add(batch_id)
        if batch_id in done:
            continue
        problem = None if link is None else _link_problem(trigger, real_root, rel, link)
        try:
            stat = entry.stat(follow_symlinks=link is not None and problem is None)
        except OSError:  # removed while we looked: the next evaluation sees the batch as it is
            continue
        batch = batches.setdefault(batch_id, Batch(fields))
        batch.files[rel] = [stat.st_size, stat.st_mtime_ns]
        if problem is not None and link is not None:
            batch.links[link] = problem
    return batches, present


def _walk(
    directory: str, prefix: str, depth: int, link: str | None
) -> Iterator[tuple[str, os.DirEntry[str], str | None]]:
    """Files exactly ``depth`` levels below ``directory``: (relative path, entry, the first
    symbolic link on the way to it or None)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:  # missing, or vanished meanwhile
        return
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        try:
            via = link if link is not None else rel if entry.is_symlink() else None
            if depth == 1:
                if entry.is_file():
                    yield rel, entry, via
            elif entry.is_dir():  # through a link too: its batch is found, then refused
                yield from _walk(entry.path, f"{rel}/", depth - 1, via)
        except OSError:
            continue


def _link_problem(trigger: FileArrival, real_root: Path, rel: str, link: str) -> str | None:
    if not trigger.follow_links:
        return (
            f"{link} is a symbolic link, and links are not followed (follow_links=True follows "
            "those that stay inside the landing directory)"
        )
    target = Path(trigger.path, rel).resolve()
    if real_root in target.parents:
        return None
    return f"{link} is a symbolic link that leads outside the landing directory (to {target})"


@dataclass
class _Cursor:
    done: set[str]
    seen: dict[str, Any]  # batch id → {"files": fingerprint, "since": when first seen so}
    refused: dict[str, Any]  # batch id → {"files": fingerprint, "reason": why}

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        state = json.loads(text) if text else {}
        return cls(set(state.get("done", [])), state.get("seen", {}), state.get("refused", {}))

    def dump(self, present: Set[str]) -> str:
        """Only batches still on disk are remembered, so the cursor does not grow forever; one
        that comes back under the same name maps to the same run key and starts no second run."""
        return json.dumps(
            {
                "done": sorted(self.done & present),
                "seen": {k: v for k, v in self.seen.items() if k in present},
                "refused": {k: v for k, v in self.refused.items() if k in present},
            }
        )


def evaluate_file_arrival(
    trigger: FileArrival,
    cursor: str | None,
    now: datetime,
    *,
    check_partition: PartitionCheck | None = None,
    requested: Callable[[str], bool] | None = None,
) -> Evaluation:
    """Requests for the batches that became complete, stable and acceptable since ``cursor``.

    ``check_partition`` validates a run's partition key against the pipeline's partitions;
    ``requested(batch id)`` says whether a run was already requested for a batch (then it is
    neither archived nor requested again)."""
    state = _Cursor.load(cursor)
    started = time.monotonic()
    requests: list[RequestedRun] = []
    refusals: list[str] = []
    waiting: list[str] = []
    copied = False
    batches, present = scan(trigger, state.done)
    for batch_id, batch in sorted(batches.items()):
        earlier = state.refused.get(batch_id)
        if earlier is not None and earlier["files"] == batch.files:
            continue  # refused, and unchanged since
        state.refused.pop(batch_id, None)
        note = _not_ready(trigger, batch_id, batch, state, now)
        verdict = _verdict(trigger, batch, check_partition) if note is None else None
        if verdict is not None and verdict[0] == "refuse":
            refusals.append(_refuse(trigger, batch_id, batch, state, verdict[1]))
            continue
        note = note or (verdict[1] if verdict else None)
        if note is not None:
            waiting.append(note)
            continue
        if requested is not None and requested(batch_id):
            state.done.add(batch_id)  # requested before (and archived then): not again
            state.seen.pop(batch_id, None)
            continue
        deadline = started + ARCHIVE_BUDGET
        if copied and time.monotonic() > deadline:  # the first batch always makes progress
            waiting.append(f"{batch.where!r}: ready; archived at the next evaluation")
            continue
        copied = copied or bool(trigger.archive_to)
        try:
            requests.append(_request(trigger, batch_id, batch, deadline))
        except Deferred as exc:
            waiting.append(f"{batch.where!r}: archiving, continued at the next evaluation ({exc})")
            continue
        except Refused as exc:
            refusals.append(_refuse(trigger, batch_id, batch, state, str(exc)))
            continue
        except OSError as exc:  # disk full, a file removed meanwhile: this batch waits alone
            waiting.append(f"{batch.where!r}: archiving failed ({exc}); retrying")
            continue
        state.done.add(batch_id)
        state.seen.pop(batch_id, None)
    if requests:
        reason = "; ".join(refusals) or None
    else:
        reason = "; ".join([*refusals, *waiting][:5]) or "no new complete batch"
        if not refusals and state.refused.keys() & present:
            reason += f" ({len(state.refused.keys() & present)} refused batch(es) left as is)"
    return Evaluation(requests=requests, cursor=state.dump(present), skip_reason=reason)


def _not_ready(
    trigger: FileArrival, batch_id: str, batch: Batch, state: _Cursor, now: datetime
) -> str | None:
    """Why the batch is not complete and stable yet, or None. A batch with refused links is not
    asked for its expected files (a manifest is never read through a link): it is refused once
    stable."""
    try:
        expected = [] if batch.links else _expected(trigger, batch.fields, batch.files)
    except Exception as exc:  # the user's function or the manifest: this batch waits alone
        state.seen.pop(batch_id, None)
        return f"{batch.where!r}: cannot tell which files to expect ({type(exc).__name__}: {exc})"
    names = {Path(f).name for f in batch.files}
    missing = [n for n in expected if n not in names]
    if missing:
        state.seen.pop(batch_id, None)
        return f"{batch.where!r}: waiting for {missing[:3]}"
    if not trigger.stable_for:
        return None
    previous = state.seen.get(batch_id)
    if previous is None or previous["files"] != batch.files:
        state.seen[batch_id] = {"files": batch.files, "since": now.timestamp()}
        return (
            f"{batch.where!r}: files changed; waiting until unchanged for {trigger.stable_for:g} s"
        )
    if now.timestamp() - previous["since"] < trigger.stable_for:
        return f"{batch.where!r}: waiting until unchanged for {trigger.stable_for:g} s"
    return None  # stable; ``seen`` keeps it so, until it is requested or refused


def _expected(
    trigger: FileArrival, fields: Mapping[str, str], files: Mapping[str, Any]
) -> list[str]:
    names = {Path(f).name: f for f in files}
    if callable(trigger.expected):
        return list(trigger.expected(fields))
    expected = list(trigger.expected)
    if "manifest" in expected and "manifest" in names:
        listed = (Path(trigger.path) / names["manifest"]).read_text().split()
        return [n for n in expected if n != "manifest"] + listed
    return expected


def _verdict(
    trigger: FileArrival, batch: Batch, check_partition: PartitionCheck | None
) -> tuple[str, str] | None:
    """("refuse", why) if the batch can never be requested, ("wait", why) if not yet, or None."""
    if batch.links:
        return "refuse", "; ".join(batch.links[k] for k in sorted(batch.links))
    keyed = set(template_fields(trigger.partition)) if trigger.partition else set()
    keyed |= {trigger.dynamic_set} if trigger.dynamic_set else set()
    for name in trigger.fields:
        if name in keyed:
            try:
                check_key(batch.fields[name], what=name)
            except PartitionError as exc:
                return "refuse", f"cannot be a partition key: {exc}"
    if not trigger.partition or check_partition is None:
        return None
    adding = _dynamic(trigger, batch.fields)
    verdict = check_partition(trigger.partition.format(**batch.fields), adding)
    if verdict is None or verdict[0] == "refuse":
        return verdict
    return "wait", f"{batch.where!r}: {verdict[1]}"


def _dynamic(trigger: FileArrival, fields: Mapping[str, str]) -> dict[str, list[str]]:
    """The dynamic partition keys a batch's run adds."""
    return {trigger.dynamic_set: [fields[trigger.dynamic_set]]} if trigger.dynamic_set else {}


def _refuse(trigger: FileArrival, batch_id: str, batch: Batch, state: _Cursor, why: str) -> str:
    """Record the refusal in the cursor, and move the batch to quarantine if asked."""
    note = f"refused {batch.where!r}: {why}"
    state.refused[batch_id] = {"files": batch.files, "reason": note}
    state.seen.pop(batch_id, None)
    if trigger.quarantine_to is None:
        return note
    try:
        moved = quarantine_batch(
            trigger, batch_id, batch.where, batch.files, batch.links, arrival(batch.files), note
        )
    except OSError as exc:
        return f"{note}; could not move it to {trigger.quarantine_to!r} ({exc})"
    return f"{note}; moved to {moved}"


def _request(trigger: FileArrival, batch_id: str, batch: Batch, deadline: float) -> RequestedRun:
    paths = [str(Path(trigger.path, f)) for f in sorted(batch.files)]
    if trigger.archive_to:
        paths = archive_batch(trigger, batch_id, batch.fields, batch.files, deadline=deadline)
    fields = batch.fields
    return RequestedRun(
        key=batch_id,
        partition=trigger.partition.format(**fields) if trigger.partition else "",
        config={"files": paths, "batch": dict(fields)},
        dynamic_partitions=_dynamic(trigger, fields),
    )
