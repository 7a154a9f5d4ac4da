"""The archive of a landing-zone batch: its directory from a template or a plain directory,
copied exactly once whatever happens to the tick, never through a link swapped in late."""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import legato as lg
from legato.automation.archive import MARKER, Refused, archive_batch, batch_digest
from legato.automation.files import evaluate_file_arrival

T0 = datetime(2025, 1, 1, tzinfo=UTC)
ARRIVED = datetime(2025, 3, 1, 12, 30, 5, tzinfo=UTC)


def _land(root, rel, text="id\n1\n", when=ARRIVED):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _trigger(tmp_path, archive_to, **options):
    return lg.FileArrival(
        path=str(tmp_path / "landing"),
        pattern="{tenant}/{batch}/*.csv",
        archive_to=str(tmp_path / archive_to),
        stable_for=0,
        **options,
    )


def test_a_template_names_the_batch_directory_and_ts_is_when_the_batch_arrived(tmp_path):
    trigger = _trigger(tmp_path, "archive/{tenant}/{ts}/")
    _land(tmp_path / "landing", "acme/b1/orders.csv")
    _land(tmp_path / "landing", "acme/b1/items.csv", when=ARRIVED - timedelta(hours=1))
    [request] = evaluate_file_arrival(trigger, None, T0)["requests"]
    directory = tmp_path / "archive" / "acme" / "20250301T123005Z"
    assert request["config"]["files"] == [
        str(directory / "items.csv"),
        str(directory / "orders.csv"),
    ]
    assert (directory / "orders.csv").read_text() == "id\n1\n"


def test_two_batches_that_would_share_a_directory_get_one_each(tmp_path):
    trigger = _trigger(tmp_path, "archive/{tenant}/{ts}/")
    _land(tmp_path / "landing", "acme/b1/orders.csv", "b1")
    _land(tmp_path / "landing", "acme/b2/orders.csv", "b2")  # arrived the same second
    requests = evaluate_file_arrival(trigger, None, T0)["requests"]
    files = [r["config"]["files"][0] for r in requests]
    assert re.fullmatch(r".*/20250301T123005Z/orders.csv", files[0])
    assert re.fullmatch(r".*/20250301T123005Z-[0-9a-f]{10}/orders.csv", files[1])
    assert [Path(f).read_text() for f in files] == ["b1", "b2"]


def test_a_plain_directory_keeps_the_layout_of_earlier_versions(tmp_path):
    trigger = _trigger(tmp_path, "archive")
    _land(tmp_path / "landing", "acme/b1/orders.csv")
    [request] = evaluate_file_arrival(trigger, None, T0)["requests"]
    [path] = request["config"]["files"]
    relative = os.path.relpath(path, tmp_path / "archive")
    assert re.fullmatch(r"20250301T123005Z-[0-9a-f]{10}/acme/b1/orders.csv", relative), relative


def test_a_batch_is_archived_once_when_the_tick_that_requested_it_was_lost(tmp_path):
    """The daemon could not record the tick (a crash, the store away): the next evaluation
    starts from the same cursor and finds the archive it made, instead of a second copy."""
    trigger = _trigger(tmp_path, "archive/{tenant}/{ts}/")
    source = _land(tmp_path / "landing", "acme/b1/orders.csv")
    first = evaluate_file_arrival(trigger, None, T0)
    copy = first["requests"][0]["config"]["files"][0]
    os.utime(copy, ns=(0, 0))  # mark the copy: a second copy would reset its time
    again = evaluate_file_arrival(trigger, None, T0 + timedelta(seconds=30))
    assert again["requests"] == first["requests"]
    assert os.stat(copy).st_mtime_ns == 0
    assert [p.name for p in (tmp_path / "archive" / "acme").iterdir()] == ["20250301T123005Z"]
    assert source.exists()


def test_an_interrupted_copy_is_resumed_and_only_ever_seen_whole(tmp_path):
    trigger = _trigger(tmp_path, "archive/{tenant}/{batch}/")
    landing, archive = tmp_path / "landing", tmp_path / "archive" / "acme"
    _land(landing, "acme/b1/a.csv", "a" * 100)
    _land(landing, "acme/b1/b.csv", "b" * 100)
    batch_id = '{"batch": "b1", "tenant": "acme"}'
    staging = archive / f".b1.{batch_digest(batch_id)}.partial"  # a copy cut short
    _land(staging, "a.csv", "a" * 100)
    _land(staging, "b.csv", "b" * 10)
    [request] = evaluate_file_arrival(trigger, None, T0)["requests"]
    assert [p.name for p in archive.iterdir()] == ["b1"]
    assert [Path(f).read_text() for f in request["config"]["files"]] == ["a" * 100, "b" * 100]
    assert (archive / "b1" / MARKER).read_text() == batch_id


def test_a_file_swapped_for_a_link_after_the_scan_is_refused_not_copied(tmp_path):
    trigger = _trigger(tmp_path, "archive")
    landing = tmp_path / "landing"
    _land(landing, "acme/b1/orders.csv").unlink()
    (landing / "acme" / "b1" / "orders.csv").symlink_to("/etc/passwd")
    with pytest.raises(Refused, match="leads outside the landing directory"):
        archive_batch(
            trigger, "{}", {"tenant": "acme", "batch": "b1"}, ["acme/b1/orders.csv"], ARRIVED
        )
    assert not list((tmp_path / "archive").rglob("*.csv"))


def test_archive_template_fields_are_checked_when_the_trigger_is_defined():
    with pytest.raises(lg.DefinitionError) as error:
        lg.FileArrival(
            path="landing", pattern="{tenant}/{batch}/*.csv", archive_to="archive/{customer}/{ts}"
        )
    message = str(error.value)
    assert "test_archive.py:" in message and "{customer}" in message
    assert "{tenant}, {batch}, {ts}, {batch_id}" in message
    assert error.value.source and error.value.source.startswith(__file__)
