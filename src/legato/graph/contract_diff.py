"""Contract changes between two versions of a project (two contracts snapshots), each breaking
or compatible, for ``legato check --against`` in a pull request.

What a step returns is read by others (its consumers, and whoever reads what its IO manager
stored), so a change to it is compatible when every value the new version may return fits the
old contract: a narrower type, an added column, an added ``not_null``. What a step's parameter
expects is a promise in the other direction: values stored under the old contract must still fit,
so widening it is compatible and narrowing it breaks. A removed asset or task breaks when
something read it; a new one never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from legato.definitions.contracts import dtype_satisfies
from legato.errors import LegatoError
from legato.graph.compat import value_mismatch
from legato.graph.contracts import SNAPSHOT_FORMAT
from legato.graph.shapes import render

Snapshot = Mapping[str, Any]


@dataclass(frozen=True)
class ContractChange:
    """One change of one step's contract; ``source`` is where the step is now (or was)."""

    step: str
    breaking: bool
    message: str
    source: str | None = None


def compare_contracts(old: Snapshot, new: Snapshot) -> list[ContractChange]:
    """Every contract change from ``old`` to ``new``, the breaking ones first."""
    before, after = _steps(old, "the old version"), _steps(new, "the new version")
    readers: dict[str, list[str]] = {}
    for key, step in before.items():
        for entry in step["inputs"].values():
            readers.setdefault(entry["upstream"], []).append(key)
    changes: list[ContractChange] = []
    for key, step in before.items():
        if key not in after:
            read_by = sorted(set(readers.get(key, ())))
            changes.append(
                ContractChange(
                    key,
                    bool(read_by),
                    f"{step['kind']} {key!r} was removed"
                    + (f"; {', '.join(read_by)} read it" if read_by else "; nothing read it"),
                    step.get("source"),
                )
            )
    for key, step in after.items():
        if key not in before:
            changes.append(
                ContractChange(key, False, f"new {step['kind']} {key!r}", step["source"])
            )
            continue
        found = _output(key, before[key], step) + _table(key, before[key], step)
        found += _inputs(key, before[key], step)
        changes += [ContractChange(key, b, m, step.get("source")) for b, m in found]
    return sorted(changes, key=lambda c: (not c.breaking, c.step))


def _steps(snapshot: Snapshot, which: str) -> Mapping[str, Any]:
    if not isinstance(snapshot, Mapping) or snapshot.get("format") != SNAPSHOT_FORMAT:
        raise LegatoError(
            f"{which} is not a contracts snapshot (format {SNAPSHOT_FORMAT!r})",
            hint="write one with `legato check --snapshot-out FILE`, or pass a git ref",
        )
    steps: Mapping[str, Any] = snapshot["steps"]
    return steps


def _output(key: str, old: Any, new: Any) -> list[tuple[bool, str]]:
    if old["output"] == new["output"]:
        return []
    was, now = render(old["output"]), render(new["output"])
    if new["output"]["kind"] == "any":
        return [(True, f"{key} no longer declares what it returns (it was {was})")]
    if old["output"]["kind"] == "any":
        return [(False, f"{key} declares it returns {now} now")]
    found = value_mismatch(new["output"], old["output"])
    if found is None:
        return [(False, f"{key} returns {now} instead of {was}: narrower, every value fits")]
    return [
        (
            True,
            f"{key} returns {now} instead of {was}: readers of {was} may get what they do not "
            f"expect ({found.describe()})",
        )
    ]


def _table(key: str, old: Any, new: Any) -> list[tuple[bool, str]]:
    was, now = old["table"], new["table"]
    if was == now:
        return []
    if now is None:
        return [(True, f"{key}'s table contract was removed: its columns are no longer promised")]
    if was is None:
        return [(False, f"{key} has a table contract now")]
    out = []
    for name, dtype in was["columns"].items():
        have = now["columns"].get(name)
        if have is None:
            out.append((True, f"{key}: column {name!r} was removed (it was {dtype})"))
        elif have != dtype:
            narrower = dtype_satisfies(have, dtype)
            out.append((not narrower, f"{key}: column {name!r} is {have} instead of {dtype}"))
    for name, dtype in now["columns"].items():
        if name not in was["columns"]:
            out.append((False, f"{key}: column {name!r} was added ({dtype})"))
    for name in sorted(set(was["not_null"]) - set(now["not_null"])):
        if name in now["columns"]:
            out.append((True, f"{key}: column {name!r} may now hold nulls"))
    for name in sorted(set(now["not_null"]) - set(was["not_null"])):
        out.append((False, f"{key}: column {name!r} is now never null"))
    return out


def _inputs(key: str, old: Any, new: Any) -> list[tuple[bool, str]]:
    out = []
    for param, now in new["inputs"].items():
        was = old["inputs"].get(param)
        if was is None or was["upstream"] != now["upstream"]:
            continue  # a new hand-off: checked against its producer when the project loads
        what = f"{key}'s parameter {param!r}"
        if was["expects"] != now["expects"]:
            found = value_mismatch(was["expects"], now["expects"])
            before, after = render(was["expects"]), render(now["expects"])
            if was["expects"]["kind"] == "any":  # checked against its producer at load
                out.append((False, f"{what} declares it expects {after} now"))
            elif found is None:
                out.append((False, f"{what} accepts {after} instead of {before}: wider"))
            else:
                out.append(
                    (
                        True,
                        f"{what} expects {after} instead of {before}: narrower, values stored "
                        f"under the old contract may not fit ({found.describe()})",
                    )
                )
        out += _needs(what, was["needs"] or {}, now["needs"] or {})
    return out


def _needs(what: str, was: Any, now: Any) -> list[tuple[bool, str]]:
    before, after = was.get("columns", {}), now.get("columns", {})
    out = []
    for name, dtype in after.items():
        if name not in before:
            out.append((True, f"{what} now needs column {name!r} ({dtype})"))
        elif dtype != before[name]:
            wider = dtype_satisfies(before[name], dtype)  # what fitted the old need fits this one
            out.append((not wider, f"{what} needs column {name!r} as {dtype}, not {before[name]}"))
    for name in before:
        if name not in after:
            out.append((False, f"{what} no longer needs column {name!r}"))
    for name in sorted(set(now.get("not_null", ())) - set(was.get("not_null", ()))):
        out.append((True, f"{what} now needs column {name!r} never null"))
    return out
