"""A roll-up that waits says what for: the tick names the upstream partitions still missing (the
first few, and how many more) and the target partition that waits for them, in the tick history
the CLI and the API show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from click.testing import CliRunner
from fastapi.testclient import TestClient

import legato as lg
from legato.cli.main import cli
from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys
from legato.testing import VirtualDaemon
from legato.web.app import create_app

TENANTS = lg.DynamicPartitions("tenant")
DAYS = lg.DailyPartitions(start="2025-01-01")
START = datetime(2025, 1, 10, tzinfo=UTC)
DAY = "2025-01-02"
NAMES = ["acme", "globex", "hooli", "initech", "umbrella", "wayne"]
TRIGGER = "daily_total#0:on_update"
NOTHING_NEW = "no new materializations"


def _steps() -> list[lg.StepDef]:
    @lg.asset(partitions=TENANTS * DAYS)
    def usage() -> int:
        return 1

    @lg.asset(
        partitions=DAYS,
        deps={"usage": lg.Dimension(on="date")},
        triggers=[lg.OnUpdate()],
    )
    def daily_total(usage: dict[str, int]) -> int:
        return sum(usage.values())

    return [usage, daily_total]


def _usage(steps: list[lg.StepDef], store: Store, *tenants: str) -> None:
    keys = [f"tenant={t},date={DAY}" for t in tenants]
    lg.materialize(steps, selection="usage", partition=keys, store=store)


def _key(tenant: str) -> str:
    return f"usage [tenant={tenant},date={DAY}]"


def _latest_reason(store: Store) -> str | None:
    """The reason of the latest tick that looked at new materializations."""
    looked = [t for t in list_ticks(store, TRIGGER) if t.reason != NOTHING_NEW]
    return looked[0].reason


def test_a_waiting_roll_up_names_the_missing_upstream_partitions(
    store: Store, tmp_path: Path
) -> None:
    steps = _steps()
    add_dynamic_keys(store, "tenant", NAMES, at=datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    assert daemon.advance(seconds=3) == []  # the trigger's first look

    _usage(steps, store, "acme")
    assert daemon.advance(seconds=3) == []
    five_missing = (
        f"waiting for {_key('globex')}, {_key('hooli')} (+3 more) for daily_total [{DAY}]"
    )
    assert _latest_reason(store) == five_missing

    app = create_app(store)
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 1))
    client.headers["Authorization"] = f"Bearer {app.state.legato.auth.local_token}"
    url = f"/api/v1/automation/triggers/{quote(TRIGGER, safe='')}/ticks"
    response = client.get(url, params={"status": "skipped"})
    assert response.status_code == 200, response.text
    reasons = [t["reason"] for t in response.json()["ticks"] if t["reason"] != NOTHING_NEW]
    assert reasons[0] == five_missing
    shown = CliRunner().invoke(
        cli,
        ["--project", str(tmp_path), "automation", "ticks", TRIGGER],
        env={"LEGATO_DATABASE_URL": store.url},
        catch_exceptions=False,
    )
    assert shown.exit_code == 0, shown.output
    words = [w for w in shown.output.split() if w != "│"]  # the table wraps the reason
    assert five_missing in " ".join(words), shown.output

    _usage(steps, store, "globex", "hooli", "initech", "umbrella")
    assert daemon.advance(seconds=3) == []
    assert _latest_reason(store) == f"waiting for {_key('wayne')} for daily_total [{DAY}]"

    _usage(steps, store, "wayne")
    runs = daemon.advance(seconds=3)
    assert [(r.selection, r.partition) for r in runs] == [("daily_total", DAY)]


def test_several_waiting_targets_are_counted(store: Store) -> None:
    steps = _steps()
    add_dynamic_keys(store, "tenant", NAMES[:2], at=datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    daemon.advance(seconds=3)
    keys = [f"tenant=acme,date=2025-01-0{d}" for d in (2, 3, 4)]
    lg.materialize(steps, selection="usage", partition=keys, store=store)
    assert daemon.advance(seconds=3) == []
    assert _latest_reason(store) == (
        "waiting for usage [tenant=globex,date=2025-01-02], usage [tenant=globex,date=2025-01-03]"
        " (+1 more) for daily_total [2025-01-02] and 2 more partitions"
    )
