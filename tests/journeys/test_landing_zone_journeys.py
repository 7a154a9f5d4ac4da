"""A landing zone through a real ``legato daemon`` on both stores, with the user's defaults: a
directory that cannot be a partition key is refused alone, a file still being written is not
taken half-written, symbolic links are not followed out of the landing root, and the archive
follows its template."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from journey import Journey, wait_until

PROJECT = """
    import json
    import os
    from pathlib import Path

    import legato as lg

    tenants = lg.DynamicPartitions("tenant")

    arrivals = lg.FileArrival(
        path="landing",
        pattern="{{tenant}}/{{batch}}/*.csv",
        dynamic_set="tenant",
        partition="{{tenant}}",
        {options}
    )

    @lg.asset(partitions=tenants, triggers=[arrivals])
    def raw(context) -> int:
        files = context.run_config["files"]
        batch = context.run_config["batch"]
        report = {{
            "files": files,
            "lines": {{Path(f).name: len(Path(f).read_text().splitlines()) for f in files}},
        }}
        out = Path("out")
        out.mkdir(exist_ok=True)
        tmp = out / f".{{batch['tenant']}}-{{batch['batch']}}.tmp"
        tmp.write_text(json.dumps(report))
        os.replace(tmp, out / f"{{batch['tenant']}}-{{batch['batch']}}.json")
        return len(files)
"""
TRIGGER = "raw#0:file_arrival"


def _project(journey: Journey, options: str = "") -> None:
    journey.write({"pipes.py": PROJECT.format(options=options)})


def _drop(journey: Journey, tenant: str, batch: str, rows: int = 3) -> Path:
    """A batch as an uploader makes it: written beside, then renamed into place whole."""
    folder = journey.dir / "landing" / tenant / batch
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".orders.tmp"
    tmp.write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
    tmp.rename(folder / "orders.csv")
    return folder


def _out(journey: Journey, tenant: str, batch: str) -> dict[str, Any] | None:
    path = journey.dir / "out" / f"{tenant}-{batch}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ticks(journey: Journey) -> list[dict[str, Any]]:
    from legato.store.automation import list_ticks

    return [
        {"status": t.status, "reason": t.reason or "", "run_id": t.run_id}
        for t in list_ticks(journey.store(), TRIGGER, limit=10_000)
    ]


def test_a_directory_that_cannot_be_a_partition_key_is_refused_alone(journey: Journey) -> None:
    _project(journey, 'archive_to="archive",')
    bad = ["tab\there", "a,b", "x=y"]
    for tenant in ["acme", *bad, "globex"]:
        _drop(journey, tenant, "b1")
    journey.daemon()
    wait_until(
        lambda: _out(journey, "acme", "b1") and _out(journey, "globex", "b1"),
        timeout=90,
        what="the valid tenants' runs, beside the refused directories",
    )
    _drop(journey, "initech", "b1")  # a late tenant: the trigger evaluates on
    wait_until(lambda: _out(journey, "initech", "b1"), timeout=90, what="the late tenant's run")

    archive = journey.dir / "archive"
    copies = sorted(p.relative_to(archive).parts[1] for p in archive.glob("*/*/b1/orders.csv"))
    assert copies == ["acme", "globex", "initech"], copies  # each once, refused ones never
    ticks = _ticks(journey)
    assert not [t for t in ticks if t["status"] == "failed"], ticks
    for tenant in bad:
        shown = repr(f"{tenant}/b1")
        refusals = [t for t in ticks if f"refused {shown}" in t["reason"]]
        assert len(refusals) == 1, (tenant, ticks)  # said once, not retried every tick
        assert "cannot be a partition key" in refusals[0]["reason"]

    listing = journey.ok("automation", "ticks", "--limit", "200").stdout
    assert "refused" in listing, listing
    server = journey.up("--no-daemon")
    status, page = server.get(f"/api/v1/automation/triggers/{TRIGGER.replace('#', '%23')}/ticks")
    assert status == 200, page
    reasons = " ".join(t["reason"] or "" for t in page["ticks"])
    assert all(repr(f"{tenant}/b1") in reasons for tenant in bad), reasons


def test_a_file_still_being_written_is_taken_whole(journey: Journey) -> None:
    _project(journey, 'archive_to="archive",')
    (journey.dir / "landing").mkdir()
    journey.daemon()
    wait_until(lambda: _ticks(journey), timeout=60, what="the trigger's first evaluation")

    lines = 60
    folder = journey.dir / "landing" / "acme" / "b1"
    folder.mkdir(parents=True)

    def write_slowly() -> None:
        with open(folder / "orders.csv", "w") as f:
            for i in range(lines):
                f.write(f"{i}\n")
                f.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        report = wait_until(lambda: _out(journey, "acme", "b1"), timeout=90, what="the run")
    finally:
        writer.join()
    assert report["lines"] == {"orders.csv": lines}, report


def test_links_are_not_followed_out_of_the_landing_root(journey: Journey) -> None:
    _project(journey, 'archive_to="archive", follow_links=True,')
    outside = journey.dir / "outside"
    outside.mkdir()
    (outside / "keys.csv").write_text("secret\n")
    acme = _drop(journey, "acme", "b1")
    os.symlink("/etc/passwd", acme / "passwd.csv")  # a file link out of the root
    (journey.dir / "landing" / "globex").mkdir()
    os.symlink(outside, journey.dir / "landing" / "globex" / "b1")  # a directory link out
    shared = journey.dir / "landing" / "shared.csv"
    shared.write_text("id\n1\n")
    initech = _drop(journey, "initech", "b1")
    os.symlink(shared, initech / "shared.csv")  # inside the root: followed, as asked
    journey.daemon()

    report = wait_until(lambda: _out(journey, "initech", "b1"), timeout=90, what="initech's run")
    assert report["lines"] == {"orders.csv": 4, "shared.csv": 2}, report
    wait_until(
        lambda: sum("refused" in t["reason"] for t in _ticks(journey)) >= 1,
        timeout=60,
        what="the refusals in the tick history",
    )
    reasons = " ".join(t["reason"] for t in _ticks(journey))
    assert "refused 'acme/b1': acme/b1/passwd.csv is a symbolic link" in reasons, reasons
    assert "/etc/passwd" in reasons, reasons
    assert "refused 'globex/b1'" in reasons and str(outside) in reasons, reasons
    assert _out(journey, "acme", "b1") is None and _out(journey, "globex", "b1") is None
    archived = sorted(p.name for p in (journey.dir / "archive").rglob("*.csv"))
    assert archived == ["orders.csv", "shared.csv"], archived  # initech's alone


def test_links_are_refused_by_default(journey: Journey) -> None:
    _project(journey)
    inside = journey.dir / "landing" / "shared.csv"
    inside.parent.mkdir()
    inside.write_text("id\n1\n")
    acme = _drop(journey, "acme", "b1")
    os.symlink(inside, acme / "shared.csv")
    _drop(journey, "globex", "b1")
    journey.daemon()
    wait_until(lambda: _out(journey, "globex", "b1"), timeout=90, what="globex's run")
    wait_until(
        lambda: any("refused 'acme/b1'" in t["reason"] for t in _ticks(journey)),
        timeout=60,
        what="acme's refusal",
    )
    reasons = " ".join(t["reason"] for t in _ticks(journey))
    assert "follow_links=True" in reasons, reasons
    assert _out(journey, "acme", "b1") is None


def test_the_archive_follows_its_template(journey: Journey) -> None:
    _project(journey, 'archive_to="archive/{tenant}/{ts}/",')
    _drop(journey, "acme", "b1", rows=2)
    _drop(journey, "acme", "b2", rows=5)
    journey.daemon()
    for batch in ("b1", "b2"):
        wait_until(lambda b=batch: _out(journey, "acme", b), timeout=90, what=f"acme {batch}")
    archive = journey.dir / "archive"
    reports = [_out(journey, "acme", b) or {} for b in ("b1", "b2")]
    files = [journey.dir / f for report in reports for f in report["files"]]
    for file in files:
        relative = file.relative_to(archive)
        assert relative.parts[0] == "acme" and relative.name == "orders.csv", relative
        assert re.fullmatch(r"\d{8}T\d{6}Z(-[0-9a-f]+)?", relative.parts[1]), relative
    assert len({f.parent for f in files}) == 2  # two batches, two directories


def test_an_archive_template_with_an_unknown_field_is_refused_at_load(journey: Journey) -> None:
    _project(journey, 'archive_to="archive/{customer}/{ts}/",')
    result = journey.legato("check")
    assert result.returncode == 1, result
    output = result.stdout + result.stderr
    line = 1 + next(n for n, text in enumerate(PROJECT.splitlines()) if "FileArrival(" in text)
    assert f"pipes.py:{line}" in output, output
    assert "customer" in output and "{tenant}" in output, output
