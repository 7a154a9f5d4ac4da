"""The definitions snapshot: typed structs that read back exactly as recorded, that read
snapshots recorded by older Legatos, and that name the snapshot, the field and the fix when a
recorded one does not fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import legato as lg
from legato.definitions.project import Project
from legato.errors import DefinitionError, SnapshotError, StoreError
from legato.graph.build import build_graph
from legato.graph.snapshot import (
    CheckSnapshot,
    DefinitionsSnapshot,
    as_data,
    fingerprint,
    read_snapshot,
    snapshot,
)


class CleanConfig(msgspec.Struct):
    min_amount: float = 0.0


def _project(description: str = "Orders as exported.") -> Project:
    @lg.asset(
        group="sales",
        tags={"tier": "gold"},
        owners=["ada@shop"],
        description=description,
        freshness=lg.Freshness(max_lag="2h"),
        checks=[lg.checks.row_count(min=1)],
    )
    def orders() -> list[dict[str, Any]]:
        return []

    @lg.asset(partitions=lg.DailyPartitions("2024-01-01"))
    def daily() -> int:
        return 0

    @lg.task(retries=2, timeout=30)
    def report(orders: list[dict[str, Any]], config: CleanConfig) -> int:
        return len(orders)

    nightly = lg.Pipeline(
        "nightly",
        select="orders+",
        tags={"team": "sales"},
        sla="1h",
        retention=lg.Retention(days=30),
        config={"report": {"min_amount": 5}},
        triggers=[lg.Cron("0 2 * * *", timezone="Europe/Berlin"), lg.Webhook(secret_env="HOOK")],
    )
    return Project.of([orders, daily, report], [nightly])


def _recorded(project: Project) -> DefinitionsSnapshot:
    return snapshot(project, build_graph(project))


def test_a_snapshot_reads_back_from_its_json_as_it_was_recorded():
    snap = _recorded(_project())
    stored = json.loads(json.dumps(as_data(snap)))  # what the store and the code server carry
    assert read_snapshot(stored) == snap
    orders, report = snap.node_index["orders"], snap.node_index["report"]
    assert (orders.kind, orders.group, orders.tags, orders.owners) == (
        "asset",
        "sales",
        {"tier": "gold"},
        ["ada@shop"],
    )
    daily = snap.node_index["daily"].partitions
    assert daily is not None and daily["kind"] == "time_window" and orders.partitions is None
    assert orders.freshness is not None and orders.freshness["max_lag_seconds"] == 7200
    [check] = orders.checks
    assert snap.node_index[check].check == CheckSnapshot(asset="orders", name="row_count")
    assert (report.kind, report.retries, report.timeout, report.inputs) == (
        "task",
        2,
        30.0,
        {"orders": "orders"},
    )
    assert report.config_schema is not None and "min_amount" in json.dumps(report.config_schema)
    pipe = snap.pipeline_index["nightly"]
    assert (pipe.selection, pipe.sla, pipe.retention) == (
        ["orders+"],
        3600.0,
        {"days": 30, "runs": None},
    )
    assert pipe.nodes == sorted(["orders", "report", check]) and pipe.config_schema is not None
    assert [t["kind"] for t in pipe.triggers] == ["cron", "webhook"]
    assert "next_fires" not in pipe.triggers[0]  # the daemon computes them
    assert snap.contracts is not None and snap.errors == []


def test_the_fingerprint_is_the_same_for_the_same_definitions_and_changes_with_them():
    first, again = _recorded(_project()), _recorded(_project())
    assert fingerprint(as_data(first)) == fingerprint(as_data(again))
    assert fingerprint(as_data(read_snapshot(as_data(first)))) == fingerprint(as_data(first))
    changed = _recorded(_project("Orders, deduplicated."))
    assert fingerprint(as_data(changed)) != fingerprint(as_data(first))


def test_a_partly_loaded_project_records_its_errors():
    project = _project()
    problem = DefinitionError("asset 'x' reads 'y', which is not defined", obj="x", hint="add y")
    snap = snapshot(project, build_graph(project), [problem])
    [error] = read_snapshot(as_data(snap)).errors
    assert (error.error, error.object, error.hint) == ("DefinitionError", "x", "add y")
    assert error.message == "asset 'x' reads 'y', which is not defined; add y"


# What the first Legato recorded: no freshness, checks, config or retention yet, no secrets,
# contracts or errors.
FIRST_VERSION = {
    "nodes": [
        {
            "key": "orders",
            "kind": "asset",
            "group": None,
            "tags": {},
            "description": None,
            "owners": [],
            "source": "shop.py:3",
            "upstream": [],
            "inputs": {},
            "partitions": None,
            "map_over": None,
            "retries": None,
            "timeout": None,
            "io_manager": None,
            "pool": None,
        }
    ],
    "pipelines": [
        {
            "name": "nightly",
            "selection": ["*"],
            "tags": {},
            "description": None,
            "source": "shop.py:9",
            "nodes": ["orders"],
            "executor": None,
            "priority": 0,
            "triggers": [{"kind": "cron", "expr": "0 2 * * *", "timezone": "UTC"}],
        }
    ],
    "resources": [],
    "a_field_of_a_newer_legato": {"ignored": True},
}


def test_a_snapshot_recorded_by_an_older_legato_reads_with_defaults():
    snap = read_snapshot(FIRST_VERSION)
    [orders] = snap.nodes
    assert (orders.freshness, orders.config_schema, orders.check, orders.checks) == (
        None,
        None,
        None,
        [],
    )
    [pipe] = snap.pipelines
    assert (pipe.sla, pipe.retention, pipe.config, pipe.config_schema) == (None, None, {}, None)
    assert (snap.secrets, snap.contracts, snap.errors) == ([], None, [])


# A snapshot the daemon recorded before the snapshot was typed (a small project with every
# field: partitions, freshness, a check, a config model, a schedule, an SLA and retention), with
# the fingerprint it was stored under.
PREVIOUS = json.loads((Path(__file__).parent / "previous_snapshot.json").read_text())


def test_a_snapshot_recorded_before_the_structs_reads_and_keeps_its_fingerprint():
    snap = read_snapshot(PREVIOUS["data"])
    assert as_data(snap) == PREVIOUS["data"]  # every field read, none added
    assert fingerprint(as_data(snap)) == PREVIOUS["fingerprint"]  # unchanged: no new row
    assert snap.node_index["report"].config_schema is not None
    assert snap.pipeline_index["nightly"].sla == 3600.0


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data: Any = json.loads(json.dumps(FIRST_VERSION))
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return dict(data)


@pytest.mark.parametrize(
    "data, problem",
    [
        (_with(("nodes", 0, "tags"), {"team": 1}), "got `int` - at `$.nodes[0].tags[...]`"),
        (_with(("nodes", 0, "key"), None), "got `null` - at `$.nodes[0].key`"),
        (_with(("pipelines", 0, "nodes"), "orders"), "at `$.pipelines[0].nodes`"),
        (_with(("nodes",), {"orders": {}}), "got `object` - at `$.nodes`"),
        (_with(("errors",), ["a plain string"]), "got `str` - at `$.errors[0]`"),
        (["not", "an", "object"], "Expected `object`, got `array`"),
    ],
)
def test_a_snapshot_that_does_not_fit_names_itself_the_field_and_the_fix(data, problem):
    with pytest.raises(SnapshotError) as info:
        read_snapshot(data, where="definitions snapshot 7 of project 'sales'")
    message = str(info.value)
    assert message.startswith("definitions snapshot 7 of project 'sales' cannot be read")
    assert problem in message
    assert "restart the daemon" in (info.value.hint or "")
    assert isinstance(info.value, StoreError)  # the daemon's loops and the API treat it so


def test_the_node_or_pipeline_at_fault_is_named_by_its_key():
    missing_kind = _with(("nodes", 0, "kind"), 3)
    with pytest.raises(SnapshotError, match=r"\$\.nodes\[0\]\.kind` \(node 'orders'\)"):
        read_snapshot(missing_kind)
    bad_priority = _with(("pipelines", 0, "priority"), "high")
    with pytest.raises(
        SnapshotError, match=r"\$\.pipelines\[0\]\.priority` \(pipeline 'nightly'\)"
    ):
        read_snapshot(bad_priority)
