"""File arrival: batches by path fields, completeness, stability, manifests, archiving, refusals
of batches that cannot be requested, symbolic links."""

import json
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato.automation.files import evaluate_file_arrival

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _write(root, rel, text="x"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_batch_is_requested_once_when_complete_and_stable(tmp_path):
    trigger = lg.FileArrival(
        path=str(tmp_path),
        pattern="{tenant}/{day}/*.csv",
        expected=["a.csv", "b.csv"],
        stable_for=10,
        partition="{tenant}",
    )
    _write(tmp_path, "acme/d1/a.csv")
    result = evaluate_file_arrival(trigger, None, T0)
    assert result.requests == [] and "waiting for ['b.csv']" in result.skip_reason
    _write(tmp_path, "acme/d1/b.csv")
    result = evaluate_file_arrival(trigger, result.cursor, T0)
    assert result.requests == [] and "changed" in result.skip_reason
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=5))
    assert result.requests == []  # stable for 5 s only
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=11))
    [request] = result.requests
    assert request.partition == "acme" and request.config["batch"] == {
        "tenant": "acme",
        "day": "d1",
    }
    again = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=20))
    assert again.requests == []  # never twice


def test_a_manifest_lists_the_files_of_its_batch_and_archives_are_atomic(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    trigger = lg.FileArrival(
        path=str(landing),
        pattern="{tenant}/{batch}/*",
        expected=["manifest"],
        archive_to=str(archive),
        dynamic_set="tenant",
        stable_for=0,
    )
    _write(landing, "acme/b1/manifest", "x.csv y.csv")
    _write(landing, "acme/b1/x.csv")
    assert evaluate_file_arrival(trigger, None, T0).requests == []
    _write(landing, "acme/b1/y.csv")
    [request] = evaluate_file_arrival(trigger, None, T0).requests
    assert request.dynamic_partitions == {"tenant": ["acme"]}
    archived = sorted(p.name for p in archive.rglob("*") if p.is_file())
    assert archived == [".legato-batch", "manifest", "x.csv", "y.csv"]
    assert not [p for p in archive.iterdir() if p.name.startswith(".")]  # no staging left
    assert all(str(archive) in f for f in request.config["files"])


def test_a_pattern_without_fields_is_refused():
    with pytest.raises(lg.DefinitionError, match=r"has no \{field\}"):
        lg.FileArrival(path="landing", pattern="*.csv")


def test_cursor_is_plain_json():
    trigger = lg.FileArrival(path="/nonexistent", pattern="{a}/*")
    result = evaluate_file_arrival(trigger, None, T0)
    assert json.loads(result.cursor) == {"done": [], "seen": {}, "refused": {}}


def test_the_cursor_forgets_batches_that_left_the_landing_zone(tmp_path):
    """A landing zone cleaned after processing must not grow the cursor forever."""
    trigger = lg.FileArrival(
        path=str(tmp_path), pattern="{batch}/*", expected=["data.csv"], stable_for=0
    )
    cursor = None
    for n in range(5):
        _write(tmp_path, f"b{n}/data.csv")
        result = evaluate_file_arrival(trigger, cursor, T0)
        assert len(result.requests) == 1
        cursor = result.cursor
        shutil.rmtree(tmp_path / f"b{n}")  # processed and removed
    result = evaluate_file_arrival(trigger, cursor, T0)
    assert json.loads(result.cursor)["done"] == []
    _write(tmp_path, "b9/data.csv")  # still there on the next look: remembered, not re-requested
    cursor = evaluate_file_arrival(trigger, result.cursor, T0).cursor
    assert evaluate_file_arrival(trigger, cursor, T0).requests == []


def _batches(archive):
    return sorted(str(p.parent.relative_to(archive)) for p in archive.rglob("orders.csv"))


def test_a_directory_that_cannot_be_a_partition_key_is_refused_alone_before_archiving(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    trigger = lg.FileArrival(
        path=str(landing),
        pattern="{tenant}/{batch}/*.csv",
        archive_to=str(archive / "{tenant}" / "{batch}"),
        dynamic_set="tenant",
        partition="{tenant}",
        stable_for=0,
    )
    for tenant in ("acme", "tab\there", "a,b", "x=y", "globex"):
        _write(landing, f"{tenant}/b1/orders.csv")
    result = evaluate_file_arrival(trigger, None, T0)
    assert sorted(r.partition for r in result.requests) == ["acme", "globex"]
    assert _batches(archive) == ["acme/b1", "globex/b1"]  # nothing of the refused ones
    for shown in ("'tab\\there/b1'", "'a,b/b1'", "'x=y/b1'"):
        assert f"refused {shown}: cannot be a partition key: tenant " in result.skip_reason
    assert "U+0009" in result.skip_reason and "contains ','" in result.skip_reason

    _write(landing, "initech/b1/orders.csv")  # later evaluations: refused ones stay refused
    later = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=5))
    assert [r.partition for r in later.requests] == ["initech"]
    assert later.skip_reason is None  # the refusals were said once
    idle = evaluate_file_arrival(trigger, later.cursor, T0 + timedelta(seconds=10))
    assert idle.requests == [] and "3 refused batch(es) left as is" in idle.skip_reason
    assert _batches(archive) == ["acme/b1", "globex/b1", "initech/b1"]


def test_a_refused_batch_is_looked_at_again_once_its_files_change(tmp_path):
    trigger = lg.FileArrival(path=str(tmp_path), pattern="{tenant}/*.csv", stable_for=0)
    _write(tmp_path, "acme/orders.csv")
    (tmp_path / "acme" / "extra.csv").symlink_to(tmp_path / "acme" / "orders.csv")
    result = evaluate_file_arrival(trigger, None, T0)
    assert result.requests == [] and "refused 'acme'" in result.skip_reason
    (tmp_path / "acme" / "extra.csv").unlink()
    [request] = evaluate_file_arrival(trigger, result.cursor, T0).requests
    assert request.config["files"] == [str(tmp_path / "acme" / "orders.csv")]


def test_a_refused_batch_moves_to_quarantine_with_its_reason(tmp_path):
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    trigger = lg.FileArrival(
        path=str(landing),
        pattern="{tenant}/{batch}/*.csv",
        partition="{tenant}",
        quarantine_to=str(quarantine),
        stable_for=0,
    )
    _write(landing, "a,b/b1/orders.csv", "id\n1\n")
    _write(landing, "a,b/b1/notes.txt")  # not part of the batch: stays
    result = evaluate_file_arrival(trigger, None, T0)
    [moved] = quarantine.iterdir()
    assert f"moved to {moved}" in result.skip_reason
    assert (moved / "a,b" / "b1" / "orders.csv").read_text() == "id\n1\n"
    assert "cannot be a partition key" in (moved / "refused.txt").read_text()
    assert not (landing / "a,b" / "b1" / "orders.csv").exists()
    assert (landing / "a,b" / "b1" / "notes.txt").exists()
    assert json.loads(evaluate_file_arrival(trigger, result.cursor, T0).cursor) == {
        "done": [],
        "seen": {},
        "refused": {},
    }


def test_a_batch_waits_until_its_files_stop_changing_by_default(tmp_path):
    trigger = lg.FileArrival(path=str(tmp_path), pattern="{tenant}/{batch}/*.csv")
    assert trigger.stable_for == 5
    path = tmp_path / "acme" / "b1" / "orders.csv"
    _write(tmp_path, "acme/b1/orders.csv", "1\n")
    result = evaluate_file_arrival(trigger, None, T0)
    assert result.requests == [] and "files changed" in result.skip_reason
    with open(path, "a") as f:  # still being written
        f.write("2\n")
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=6))
    assert result.requests == []
    stat = path.stat()
    path.write_text("3\n4\n")  # same size, rewritten: the modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=12))
    assert result.requests == [] and "files changed" in result.skip_reason
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=16))
    assert result.requests == []  # unchanged for 4 s only
    result = evaluate_file_arrival(trigger, result.cursor, T0 + timedelta(seconds=17))
    assert len(result.requests) == 1


def test_links_are_refused_unless_followed_and_never_out_of_the_landing_zone(tmp_path):
    landing, archive, outside = tmp_path / "landing", tmp_path / "archive", tmp_path / "out"
    _write(outside, "keys.csv", "secret")
    _write(landing, "shared.csv", "shared")
    _write(landing, "acme/b1/orders.csv")
    (landing / "acme" / "b1" / "passwd.csv").symlink_to("/etc/passwd")
    _write(landing, "globex/b1/orders.csv")
    (landing / "globex" / "b2").symlink_to(outside)  # a directory link out
    _write(landing, "initech/b1/orders.csv")
    (landing / "initech" / "b1" / "shared.csv").symlink_to(landing / "shared.csv")  # inside

    def evaluate(**options):
        trigger = lg.FileArrival(
            path=str(landing),
            pattern="{tenant}/{batch}/*.csv",
            archive_to=str(archive),
            stable_for=0,
            **options,
        )
        return evaluate_file_arrival(trigger, None, T0)

    result = evaluate()
    assert [r.config["batch"]["tenant"] for r in result.requests] == ["globex"]
    reason = result.skip_reason
    assert "refused 'acme/b1': acme/b1/passwd.csv is a symbolic link" in reason
    assert "refused 'globex/b2': globex/b2 is a symbolic link" in reason
    assert "refused 'initech/b1'" in reason and "follow_links=True" in reason

    shutil.rmtree(archive)
    result = evaluate(follow_links=True)
    assert sorted(r.config["batch"]["tenant"] for r in result.requests) == [
        "globex",
        "initech",
    ]
    assert "refused 'acme/b1': acme/b1/passwd.csv is a symbolic link that leads outside" in (
        result.skip_reason
    )
    assert "refused 'globex/b2'" in result.skip_reason and str(outside) in result.skip_reason
    archived = sorted(p.name for p in archive.rglob("*.csv"))
    assert archived == ["orders.csv", "orders.csv", "shared.csv"]
    assert not any(p.is_symlink() for p in archive.rglob("*"))


def test_a_batch_whose_run_was_requested_already_is_neither_archived_nor_requested(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    trigger = lg.FileArrival(
        path=str(landing), pattern="{tenant}/*.csv", archive_to=str(archive), stable_for=0
    )
    _write(landing, "acme/orders.csv")
    result = evaluate_file_arrival(trigger, None, T0, requested=lambda batch: True)
    assert result.requests == [] and not archive.exists()
    assert json.loads(result.cursor)["done"] == ['{"tenant": "acme"}']


def test_one_batch_whose_expected_files_cannot_be_told_waits_alone(tmp_path):
    def expected(fields):
        return {"acme": ["orders.csv"]}[fields["tenant"]]  # globex is unknown

    trigger = lg.FileArrival(
        path=str(tmp_path), pattern="{tenant}/*.csv", expected=expected, stable_for=0
    )
    _write(tmp_path, "acme/orders.csv")
    _write(tmp_path, "globex/orders.csv")
    result = evaluate_file_arrival(trigger, None, T0)
    assert [r.config["batch"] for r in result.requests] == [{"tenant": "acme"}]
    assert "'globex': cannot tell which files to expect (KeyError" in str(
        evaluate_file_arrival(trigger, result.cursor, T0).skip_reason
    )


def test_the_daemon_waits_for_a_window_to_end_and_refuses_a_key_that_never_will(tmp_path):
    """Through the daemon loop: each batch's partition key is checked against the asset's
    partitions before anything is archived; one that is not a key yet waits for its window."""
    from legato.store.automation import list_ticks
    from legato.testing import VirtualDaemon

    landing = tmp_path / "landing"
    keys = lg.DynamicPartitions("tenant") * lg.DailyPartitions(start="2025-01-01")

    @lg.asset(partitions=keys)
    def landed(context) -> None: ...

    pipe = lg.Pipeline(
        "landing",
        select="landed",
        triggers=[
            lg.FileArrival(
                path=str(landing),
                pattern="{tenant}/{date}/*.csv",
                archive_to=str(tmp_path / "archive"),
                dynamic_set="tenant",
                partition="tenant={tenant},date={date}",
                interval=600,
            )
        ],
    )
    for folder in ("acme/2025-03-01", "acme/2025-03-09", "acme/2025-13-45", "a,b/2025-03-01"):
        _write(landing, f"{folder}/orders.csv")
    daemon = VirtualDaemon([pipe], start=datetime(2025, 3, 8, 12, tzinfo=UTC), steps=[landed])
    runs = daemon.advance(hours=1)
    assert [r.partition for r in runs] == ["tenant=acme,date=2025-03-01"]
    ticks = list_ticks(daemon.store, limit=500)
    assert len(ticks) < 10  # a waiting batch does not flip between two reasons, a tick each
    reasons = " ".join(t.reason or "" for t in ticks)
    assert "refused 'acme/2025-13-45': 'tenant=acme,date=2025-13-45' is not a partition key" in (
        reasons
    )
    assert "refused 'a,b/2025-03-01': cannot be a partition key: tenant 'a,b'" in reasons
    assert "'acme/2025-03-09': partition 'tenant=acme,date=2025-03-09' is a key once" in reasons
    assert not [t for t in ticks if t.status == "failed"]
    archived = sorted(p.parent.name for p in (tmp_path / "archive").rglob("orders.csv"))
    assert archived == ["2025-03-01"]

    later = daemon.advance(days=2)  # 2025-03-09 has ended
    assert [r.partition for r in later] == ["tenant=acme,date=2025-03-09"]


def test_a_manifest_is_never_read_through_a_link(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("hunter2 s3cr3t")
    landing = tmp_path / "landing"
    trigger = lg.FileArrival(
        path=str(landing), pattern="{batch}/*", expected=["manifest"], stable_for=0
    )
    _write(landing, "b1/data.csv")
    (landing / "b1" / "manifest").symlink_to(secret)
    result = evaluate_file_arrival(trigger, None, T0)
    assert result.requests == [] and "refused 'b1': b1/manifest is a symbolic link" in (
        result.skip_reason
    )
    assert "hunter2" not in result.skip_reason and "hunter2" not in result.cursor
