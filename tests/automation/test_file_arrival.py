"""File arrival: batches by path fields, completeness, size stability, manifests, archiving."""

import json
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
    assert result["requests"] == [] and "waiting for ['b.csv']" in result["skip_reason"]
    _write(tmp_path, "acme/d1/b.csv")
    result = evaluate_file_arrival(trigger, result["cursor"], T0)
    assert result["requests"] == [] and "changed" in result["skip_reason"]
    result = evaluate_file_arrival(trigger, result["cursor"], T0 + timedelta(seconds=5))
    assert result["requests"] == []  # stable for 5 s only
    result = evaluate_file_arrival(trigger, result["cursor"], T0 + timedelta(seconds=11))
    [request] = result["requests"]
    assert request["partition"] == "acme" and request["config"]["batch"] == {
        "tenant": "acme",
        "day": "d1",
    }
    again = evaluate_file_arrival(trigger, result["cursor"], T0 + timedelta(seconds=20))
    assert again["requests"] == []  # never twice


def test_a_manifest_lists_the_files_of_its_batch_and_archives_are_atomic(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    trigger = lg.FileArrival(
        path=str(landing),
        pattern="{tenant}/{batch}/*",
        expected=["manifest"],
        archive_to=str(archive),
        dynamic_set="tenant",
    )
    _write(landing, "acme/b1/manifest", "x.csv y.csv")
    _write(landing, "acme/b1/x.csv")
    assert evaluate_file_arrival(trigger, None, T0)["requests"] == []
    _write(landing, "acme/b1/y.csv")
    [request] = evaluate_file_arrival(trigger, None, T0)["requests"]
    assert request["dynamic_partitions"] == {"tenant": ["acme"]}
    archived = sorted(p.name for p in archive.rglob("*") if p.is_file())
    assert archived == ["manifest", "x.csv", "y.csv"]
    assert not [p for p in archive.iterdir() if p.name.startswith(".")]  # no staging left
    assert all(str(archive) in f for f in request["config"]["files"])


def test_a_pattern_without_fields_is_refused():
    with pytest.raises(lg.DefinitionError, match=r"has no \{field\}"):
        lg.FileArrival(path="landing", pattern="*.csv")


def test_cursor_is_plain_json():
    trigger = lg.FileArrival(path="/nonexistent", pattern="{a}/*")
    result = evaluate_file_arrival(trigger, None, T0)
    assert json.loads(result["cursor"]) == {"done": [], "seen": {}}


def test_the_cursor_forgets_batches_that_left_the_landing_zone(tmp_path):
    """A landing zone cleaned after processing must not grow the cursor forever."""
    trigger = lg.FileArrival(path=str(tmp_path), pattern="{batch}/*", expected=["data.csv"])
    cursor = None
    for n in range(5):
        _write(tmp_path, f"b{n}/data.csv")
        result = evaluate_file_arrival(trigger, cursor, T0)
        assert len(result["requests"]) == 1
        cursor = result["cursor"]
        shutil.rmtree(tmp_path / f"b{n}")  # processed and removed
    result = evaluate_file_arrival(trigger, cursor, T0)
    assert json.loads(result["cursor"])["done"] == []
    _write(tmp_path, "b9/data.csv")  # still there on the next look: remembered, not re-requested
    cursor = evaluate_file_arrival(trigger, result["cursor"], T0)["cursor"]
    assert evaluate_file_arrival(trigger, cursor, T0)["requests"] == []
