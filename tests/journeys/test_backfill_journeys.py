"""Backfills as a user drives them beside ``legato up``: what the command prints, what ``legato
backfills list`` and the API show, and the runs in the store tell one story; a resume finishes
every key exactly once; a roll-up window the backfill covers only in part waits instead of
failing; a backfill handed to the daemon (``--detach``, or created through the API) completes."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from journey import Journey, Server, wait_until

pytestmark = pytest.mark.timeout(600)

EXAMPLE = Path(__file__).parents[2] / "examples" / "tenants"

PROJECT = """
    from pathlib import Path
    import legato as lg

    days = lg.DailyPartitions(start="2025-01-01")
    weeks = lg.WeeklyPartitions(start="2025-01-06")

    @lg.asset(partitions=days)
    def readings(context) -> int:
        if context.partition_key == "2025-03-05" and Path("feed-broken").exists():
            raise ValueError("the feed of 2025-03-05 is corrupt")
        return 1

    @lg.asset(partitions=weeks)
    def weekly(readings: dict[str, int]) -> int:
        return sum(readings.values())
"""
# 28 days (one run each) and their 4 weeks (one run each, after its 7 days)
RANGE = ("--from", "2025-03-03", "--to", "2025-03-30")
GROUPS = 32


def _groups(journey: Journey, backfill_id: str) -> dict[int, list[tuple[int, str]]]:
    """Group → [(attempt, status)] of every run the backfill created, from the store."""
    from legato.store.backfills import backfill_runs

    found: dict[int, list[tuple[int, str]]] = {}
    for run in backfill_runs(journey.store(), backfill_id):
        _, _, group, attempt = (run.idempotency_key or "").split(":")
        found.setdefault(int(group), []).append((int(attempt), run.status.value))
    return found


def _latest(groups: dict[int, list[tuple[int, str]]]) -> Counter[str]:
    return Counter(max(runs)[1] for runs in groups.values())


def _listed(journey: Journey, backfill_id: str) -> str:
    listing = journey.ok("backfills", "list").stdout
    row = next((line for line in listing.splitlines() if backfill_id in line), None)
    assert row is not None, listing
    return row


def _api(server: Server, backfill_id: str) -> dict[str, object]:
    status, page = server.get("/api/v1/backfills")
    assert status == 200, page
    found = [b for b in page["backfills"] if b["backfill_id"] == backfill_id]
    assert found, page
    return found[0]  # type: ignore[no-any-return]


def test_a_failed_key_is_reported_as_the_store_has_it_and_a_resume_finishes_every_key_once(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    (journey.dir / "feed-broken").write_text("")
    server = journey.up()

    failed = journey.legato("backfill", "readings+", *RANGE, timeout=480)
    out = failed.stdout + failed.stderr
    assert failed.returncode == 1, out
    backfill_id = re.search(r"backfill (\S+) created", out)
    assert backfill_id, out
    bid = backfill_id.group(1)
    said = re.search(rf"backfill {bid} failed: (\d+) run\(s\) failed .*?, (\d+) blocked", out)
    assert said, out

    groups = _groups(journey, bid)
    latest = _latest(groups)
    # Everything the backfill started has ended, and it says what the store says.
    assert set(latest) <= {"succeeded", "failed"}, latest
    assert (int(said.group(1)), int(said.group(2))) == (1, 1), out  # the day, and its week
    assert latest == {"succeeded": GROUPS - 2, "failed": 1}, latest
    row = _listed(journey, bid)
    assert f"{GROUPS - 2}/{GROUPS}" in row and "failed" in row, row
    shown = _api(server, bid)
    assert shown["status"] == "failed", shown
    assert shown["progress"] == {
        "total": GROUPS,
        "succeeded": GROUPS - 2,
        "failed": 1,
        "running": 0,
        "pending": 1,
    }, shown

    (journey.dir / "feed-broken").unlink()
    resumed = journey.legato("backfills", "resume", bid, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"backfill {bid} completed" in resumed.stdout, resumed.stdout

    groups = _groups(journey, bid)
    assert len(groups) == GROUPS
    succeeded = {g: sum(s == "succeeded" for _, s in runs) for g, runs in groups.items()}
    assert set(succeeded.values()) == {1}, groups  # every key once, none twice
    assert _materializations(journey) == {"readings": 28, "weekly": 4}
    row = _listed(journey, bid)
    assert f"{GROUPS}/{GROUPS}" in row and "completed" in row, row
    shown = _api(server, bid)
    assert shown["status"] == "completed", shown
    assert shown["progress"] == {
        "total": GROUPS,
        "succeeded": GROUPS,
        "failed": 0,
        "running": 0,
        "pending": 0,
    }, shown


def _materializations(journey: Journey) -> dict[str, int]:
    """Asset → how many partitions it has, each materialized exactly once (else it fails)."""
    from sqlalchemy import select

    from legato.store.schema import materializations as m

    with journey.store().read() as conn:
        rows = conn.execute(select(m.c.asset_key, m.c.partition)).all()
    per_key = Counter((r.asset_key, r.partition) for r in rows)
    twice = {k: n for k, n in per_key.items() if n != 1}
    assert not twice, twice
    return dict(Counter(asset for asset, _ in per_key))


def test_a_month_the_backfill_covers_only_in_part_waits_and_the_backfill_completes(
    journey: Journey,
) -> None:
    shutil.copytree(EXAMPLE / "tenants", journey.dir / "tenants")
    shutil.copy(EXAMPLE / "legato.toml", journey.dir / "legato.toml")
    journey.ok("partitions", "add", "tenants", "acme", "globex")
    two_days = ("backfill", "usage+", "--from", "2025-03-01", "--to", "2025-03-02")

    preview = journey.ok(*two_days, "--dry-run").stdout
    assert "4 key(s) → 6 run(s)" in preview, preview  # 4 tenant-days and 2 day totals
    waiting = [line for line in preview.splitlines() if "waiting" in line]
    assert len(waiting) == 1, preview
    assert "monthly_report[2025-03]" in waiting[0], preview
    assert "daily_usage 2025-03-03" in waiting[0] and "29 missing" in waiting[0], preview

    done = journey.legato(*two_days, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert re.search(r"backfill \S+ completed", out), out
    from legato.store.backfills import list_backfills
    from legato.store.runs import list_runs

    (record,) = list_backfills(journey.store())
    assert record.status == "completed" and record.error is None, record
    runs = list_runs(journey.store(), limit=100)
    assert Counter(r.status.value for r in runs) == {"succeeded": 6}, runs
    assert "monthly_report" not in {r.selection for r in runs}
    assert _materializations(journey) == {"usage": 4, "daily_usage": 2}

    # The rest of the month completes the window: now the month is planned, after its days.
    rest = journey.ok(
        "backfill", "usage+", "--from", "2025-03-03", "--to", "2025-03-31", "--dry-run"
    )
    assert "58 key(s) → 88 run(s)" in rest.stdout, rest.stdout
    assert "waiting" not in rest.stdout, rest.stdout


DETACHED = """
    import legato as lg

    days = lg.DailyPartitions(start="2025-01-01")

    @lg.asset(partitions=days)
    def readings() -> int:
        return 1

    @lg.asset(partitions=days)
    def cleaned(readings: int) -> int:
        return readings
"""


def test_backfills_handed_to_the_daemon_from_the_cli_and_the_api_complete(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": DETACHED}, config='executor = "inprocess"\n')
    server = journey.up()
    detached = journey.ok(
        "backfill", "readings+", "--from", "2025-03-01", "--to", "2025-03-10", "--detach"
    )
    cli_id = detached.stdout.strip()  # the id alone, at once
    assert f"backfill {cli_id} created: 10 key(s) → 10 run(s); the daemon drives it" in (
        detached.stderr
    )
    status, created = server.post(
        "/api/v1/backfills",
        {"selection": "readings", "range": {"from": "2025-04-01", "to": "2025-04-05"}},
    )
    assert status == 201 and created["planned"] is False, created
    api_id = created["backfill_id"]

    def finished() -> bool:
        from legato.store.backfills import get_backfill

        ended = ("completed", "failed", "cancelled")
        return all(get_backfill(journey.store(), b).status in ended for b in (cli_id, api_id))

    wait_until(finished, timeout=240, what="both backfills to finish")
    listing = journey.ok("backfills").stdout
    cli_row = next(line for line in listing.splitlines() if cli_id in line)
    api_row = next(line for line in listing.splitlines() if api_id in line)
    assert "completed" in cli_row and "10/10" in cli_row, listing  # a run per day, both assets
    assert "completed" in api_row and "5/5" in api_row, listing
    assert _materializations(journey) == {"readings": 15, "cleaned": 10}
    shown = _api(server, api_id)
    assert shown["planned"] is True and shown["keys"] == 5, shown
    assert shown["progress"]["succeeded"] == 5, shown
