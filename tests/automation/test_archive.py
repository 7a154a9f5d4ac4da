"""The archive of a landing-zone batch: its directory from a template or a plain directory,
copied exactly once whatever happens to the tick, never through a link swapped in late."""

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import legato as lg
from legato.automation import archive as archive_module
from legato.automation import files
from legato.automation.archive import MARKER, Refused, archive_batch
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
    [request] = evaluate_file_arrival(trigger, None, T0).requests
    directory = tmp_path / "archive" / "acme" / "20250301T123005Z"
    assert request.config["files"] == [
        str(directory / "items.csv"),
        str(directory / "orders.csv"),
    ]
    assert (directory / "orders.csv").read_text() == "id\n1\n"


def test_two_batches_that_would_share_a_directory_get_one_each(tmp_path):
    trigger = _trigger(tmp_path, "archive/{tenant}/{ts}/")
    _land(tmp_path / "landing", "acme/b1/orders.csv", "b1")
    _land(tmp_path / "landing", "acme/b2/orders.csv", "b2")  # arrived the same second
    requests = evaluate_file_arrival(trigger, None, T0).requests
    files = [r.config["files"][0] for r in requests]
    assert re.fullmatch(r".*/20250301T123005Z/orders.csv", files[0])
    assert re.fullmatch(r".*/20250301T123005Z-[0-9a-f]{10}/orders.csv", files[1])
    assert [Path(f).read_text() for f in files] == ["b1", "b2"]


def test_a_plain_directory_keeps_the_layout_of_earlier_versions(tmp_path):
    trigger = _trigger(tmp_path, "archive")
    _land(tmp_path / "landing", "acme/b1/orders.csv")
    [request] = evaluate_file_arrival(trigger, None, T0).requests
    [path] = request.config["files"]
    relative = os.path.relpath(path, tmp_path / "archive")
    assert re.fullmatch(r"20250301T123005Z-[0-9a-f]{10}/acme/b1/orders.csv", relative), relative


def test_a_batch_is_archived_once_when_the_tick_that_requested_it_was_lost(tmp_path):
    """The daemon could not record the tick (a crash, the store away): the next evaluation
    starts from the same cursor and finds the archive it made, instead of a second copy."""
    trigger = _trigger(tmp_path, "archive/{tenant}/{ts}/")
    source = _land(tmp_path / "landing", "acme/b1/orders.csv")
    first = evaluate_file_arrival(trigger, None, T0)
    copy = first.requests[0].config["files"][0]
    os.utime(copy, ns=(0, 0))  # mark the copy: a second copy would reset its time
    again = evaluate_file_arrival(trigger, None, T0 + timedelta(seconds=30))
    assert again.requests == first.requests
    assert os.stat(copy).st_mtime_ns == 0
    assert [p.name for p in (tmp_path / "archive" / "acme").iterdir()] == ["20250301T123005Z"]
    assert source.exists()


def test_a_large_batch_is_copied_over_several_evaluations_and_only_ever_seen_whole(
    tmp_path, monkeypatch
):
    """An evaluation copies for a bounded time (the code server must answer); the next goes on
    where it stopped, unless the batch changed meanwhile, and the archive appears whole."""
    monkeypatch.setattr(files, "ARCHIVE_BUDGET", 0.0)
    monkeypatch.setattr(archive_module, "CHUNK", 10)  # one chunk per evaluation
    trigger = _trigger(tmp_path, "archive/{tenant}/{batch}/")
    landing, archive = tmp_path / "landing", tmp_path / "archive" / "acme"
    _land(landing, "acme/b1/a.csv", "a" * 30)
    _land(landing, "acme/b1/b.csv", "b" * 30)
    cursor, evaluations = None, 0
    while True:
        result = evaluate_file_arrival(trigger, cursor, T0)
        cursor, evaluations = result.cursor, evaluations + 1
        if evaluations == 2:  # rewritten after a part was copied: the copy starts over
            _land(landing, "acme/b1/a.csv", "A" * 30, when=ARRIVED + timedelta(seconds=1))
        if result.requests:
            break
        assert "archiving, continued at the next evaluation" in result.skip_reason
        assert not (archive / "b1").exists()  # never half in place
    assert evaluations > 6
    [request] = result.requests
    assert [Path(f).read_text() for f in request.config["files"]] == ["A" * 30, "b" * 30]
    assert [p.name for p in archive.iterdir()] == ["b1"]
    assert json.loads((archive / "b1" / MARKER).read_text())["batch"] == request.key


def test_a_file_swapped_for_a_link_after_the_scan_is_refused_not_copied(tmp_path):
    trigger = _trigger(tmp_path, "archive")
    landing = tmp_path / "landing"
    _land(landing, "acme/b1/orders.csv").unlink()
    (landing / "acme" / "b1" / "orders.csv").symlink_to("/etc/passwd")
    with pytest.raises(Refused, match="leads outside the landing directory"):
        archive_batch(
            trigger, "{}", {"tenant": "acme", "batch": "b1"}, {"acme/b1/orders.csv": [0, 0]}
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
