"""What evaluating a trigger gives the daemon: the runs it asks for, the trigger's new cursor, and
why nothing was asked for.

Sensors, OnUpdate and file arrival are evaluated where the user's code is loaded (the code server,
a child process) and recorded by the daemon; these structs are the contract between the two. The
code server sends them as JSON, and the daemon reads its answer back into them, so a malformed
answer is an error naming the field, not a ``KeyError`` deep in the daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from legato.errors import LegatoError


class RequestedRun(msgspec.Struct, frozen=True, kw_only=True):
    """A run a trigger asks for."""

    key: str | None = None  # what makes it unique for the trigger (a batch id, a partition...)
    selection: str | None = None  # None: the pipeline's selection
    partition: str = ""
    config: dict[str, Any] = {}
    tags: dict[str, str] = {}
    dynamic_partitions: dict[str, list[str]] = {}  # keys to add before the run is recorded


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One evaluation of a trigger."""

    requests: list[RequestedRun] = []
    cursor: str | None = None
    skip_reason: str | None = None  # why nothing was requested (or what was refused)
    dynamic_partitions: dict[str, list[str]] = {}


def as_data(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as plain data, for the code server's JSON answer."""
    data: dict[str, Any] = msgspec.to_builtins(evaluation)
    return data


def read_evaluation(data: Mapping[str, Any]) -> Evaluation:
    """An evaluation sent by the code server; a LegatoError naming what is wrong otherwise."""
    try:
        evaluation: Evaluation = msgspec.convert(data, Evaluation)
    except msgspec.ValidationError as exc:
        raise LegatoError(
            f"the code server answered an evaluation the daemon cannot read: {exc}",
            hint="the daemon and its code server must be the same Legato; restart the daemon",
        ) from exc
    return evaluation
