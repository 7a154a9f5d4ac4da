"""Contracts across projects that share a store: each hand-off through an external asset is
compared as if both ends were in one project, from the contracts snapshots the projects record.

A project reads another's asset by declaring it with ``external_asset(key, project=...)``. Two
kinds of pair cross a project's border: its consumers of an external asset against the other
project that produces that key, and other projects' consumers of an external asset against this
project when it produces that key. An external asset that names a project matches that project
only; one that names none matches every project that produces its key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from legato.errors import ContractError
from legato.graph.compat import table_mismatch, value_mismatch
from legato.graph.contracts import End, hand_off, pair_error


@dataclass(frozen=True)
class Recorded:
    """One project's contracts: its name (None: this project has none) and the ``steps`` of its
    contracts snapshot."""

    project: str | None
    steps: Mapping[str, Any]


def cross_project_errors(mine: Recorded, others: Iterable[Recorded]) -> list[ContractError]:
    """Every hand-off between ``mine`` and one of ``others`` whose consumer expects what its
    producer's contract does not promise; each error points at ``mine``'s end."""
    errors = []
    for other in others:
        for producer, consumer in (*_pairs(other, mine), *_pairs(mine, other)):
            error = _compare(producer, consumer, mine)
            if error is not None:
                errors.append(error)
    return errors


@dataclass(frozen=True)
class _Side:
    project: Recorded
    key: str
    step: Mapping[str, Any]

    def end(self) -> End:
        return End(self.step["kind"], self.key, self.step.get("source"), self.project.project)


@dataclass(frozen=True)
class _Consumer(_Side):
    param: str
    entry: Mapping[str, Any]


def _pairs(producers: Recorded, consumers: Recorded) -> Iterator[tuple[_Side, _Consumer]]:
    """Each (producer, consumer) where a step of ``consumers`` reads an external asset that
    ``producers`` produces."""
    for key, step in consumers.steps.items():
        if "external" in step:
            continue
        for param, entry in step["inputs"].items():
            upstream = consumers.steps.get(entry["upstream"], {})
            wanted = upstream.get("external")
            if wanted is None or (wanted and wanted != producers.project):
                continue
            produced = producers.steps.get(entry["upstream"])
            if produced is not None and "external" not in produced:
                yield (
                    _Side(producers, entry["upstream"], produced),
                    _Consumer(consumers, key, step, param, entry),
                )


def _compare(producer: _Side, consumer: _Consumer, mine: Recorded) -> ContractError | None:
    made, entry = producer.step, consumer.entry
    if made.get("single_run") or consumer.step.get("single_run"):
        return None  # {key: value} for many keys: not compared, as within a project
    shape, direct = hand_off(
        made["output"],
        mapped=bool(made.get("mapped")),
        as_mapping=bool(entry.get("as_mapping")),
        one_item=bool(entry.get("one_item")),
    )
    found = value_mismatch(shape, entry["expects"])
    if found is None and entry.get("needs") is not None and direct:
        found = table_mismatch(made.get("table"), entry["needs"])
    if found is None:
        return None
    here = producer if producer.project is mine else consumer
    return pair_error(
        producer.end(),
        consumer.end(),
        consumer.param,
        shape,
        entry["expects"],
        found,
        source=here.step.get("source"),
    )
