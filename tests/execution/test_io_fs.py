import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.errors import SignatureError
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.io.paths import path_segment
from legato.execution.io.signing import default_key_file


def test_values_round_trip_and_replace_atomically(tmp_path):
    io = FilesystemIOManager(tmp_path / "root")
    ctx = IOContext(StepKey("sales.orders", "2025-01-01"), "run1", "sales.orders")
    meta = io.store(ctx, {"rows": [1, 2, 3]})
    assert meta["format"] == "pickle" and meta["bytes"] > 0
    assert io.load(ctx) == {"rows": [1, 2, 3]} and io.exists(ctx)
    io.store(ctx, "v2")
    assert io.load(ctx) == "v2"
    leftovers = [p.name for p in (tmp_path / "root").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


@pytest.mark.parametrize(
    "partition",
    [
        "../../../escape",
        "/etc/passwd",
        "..",
        "%2e%2e%2f",
        "a/../../b",
        "CON",
        "x" * 5000,
        "tenant=a,date=1",
    ],
)
def test_hostile_partition_keys_never_leave_the_root(tmp_path, partition):
    root = tmp_path / "root"
    canary = tmp_path / "escape.pkl"
    io = FilesystemIOManager(root)
    ctx = IOContext(StepKey("orders", partition), "run1", "orders")
    io.store(ctx, "value")
    assert io.load(ctx) == "value"
    assert not canary.exists()
    key = default_key_file(root)  # outside the root on purpose
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != key]
    assert written and all(p.resolve().is_relative_to(root.resolve()) for p in written)


def test_path_segments_are_distinct_for_distinct_keys():
    keys = ["a/b", "a%2Fb", "a_b", "A_B", "..", ".", "a b"]
    assert len({path_segment(k) for k in keys}) == len(keys)
    assert all("/" not in path_segment(k) and path_segment(k) not in (".", "..") for k in keys)


def test_a_killed_writer_leaves_the_previous_value_intact(tmp_path):
    """SIGKILL in the middle of a large write: readers still see the old complete value."""
    root = tmp_path / "root"
    io = FilesystemIOManager(root)
    ctx = IOContext(StepKey("big"), "run1", "big")
    io.store(ctx, b"old")
    script = textwrap.dedent(f"""
        import os, sys
        from legato.definitions.io import IOContext
        from legato.definitions.keys import StepKey
        from legato.execution.io import fs

        real = fs._atomic_write
        def slow_write(path, write, durable):
            def half(f):
                f.write(b"x" * 1_000_000)
                f.flush()
                sys.stdout.write("writing\\n"); sys.stdout.flush()
                os.kill(os.getpid(), 9)
            return real(path, half, durable)
        fs._atomic_write = slow_write
        fs.FilesystemIOManager({str(root)!r}).store(IOContext(StepKey("big"), "run2", "big"), b"new")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL and "writing" in proc.stdout
    assert io.load(ctx) == b"old"


def test_tables_are_written_as_parquet_when_pandas_is_installed(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    io = FilesystemIOManager(tmp_path)
    ctx = IOContext(StepKey("table"), "run1", "table")
    assert io.store(ctx, pd.DataFrame({"a": [1, 2]}))["format"] == "parquet"
    assert io.load(ctx)["a"].tolist() == [1, 2]
    assert os.path.exists(tmp_path / "assets" / "table" / "__all__.pandas.parquet")


def test_stored_values_and_their_directories_are_readable_by_their_owner_only(tmp_path):
    old = os.umask(0o022)  # the common default, under which files are world-readable
    try:
        io = FilesystemIOManager(tmp_path / "storage")
        io.store(IOContext(StepKey("sales.orders", "2025-01-01"), "run1", "sales.orders"), [1])
        io.store(IOContext(StepKey("report"), "run1"), "done")
    finally:
        os.umask(old)
    made = [tmp_path / "storage", *(tmp_path / "storage").rglob("*")]
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in made}
    assert all(m == (0o700 if (tmp_path / p).is_dir() else 0o600) for p, m in modes.items()), modes
    assert len(modes) == 8, modes  # storage, assets, sales, orders, the value; runs, run1, value


def test_a_first_attempts_task_result_costs_one_file_one_write_and_one_rename(
    tmp_path, monkeypatch
):
    """Staged under the attempt's own name (no temporary file), renamed into place, and nothing
    removed: the run's directory cannot hold another value of that step."""
    worker, engine = FilesystemIOManager(tmp_path), FilesystemIOManager(tmp_path)
    engine.key  # noqa: B018 - made before counting
    engine.publish(worker.stage(IOContext(StepKey("warm"), "run1"), 0, "run1-1"))  # its dir
    calls: list[str] = []
    for name in ("open", "replace", "rename", "unlink", "write", "writev", "stat", "lstat"):
        real = getattr(os, name)

        def spy(*args, _name=name, _real=real, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    staged = worker.stage(IOContext(StepKey("m1"), "run1"), 41, "run1-1")
    engine.publish(staged, first_attempt=True)
    monkeypatch.undo()
    assert sorted(calls) == ["open", "replace", "writev"]
    assert worker.load(IOContext(StepKey("m1"), "run1")) == 41


def test_a_small_task_result_comes_back_inline_and_is_stored_when_the_engine_appends_it(
    tmp_path,
):
    old = os.umask(0o022)
    try:
        worker, engine = FilesystemIOManager(tmp_path), FilesystemIOManager(tmp_path)
        context = IOContext(StepKey("m1"), "run1")
        staged = worker.stage(context, {"n": 41}, "run1-1", inline=1024)
        assert staged["format"] == "pickle" and staged["bytes"] == len(staged["inline"])
        assert not (tmp_path / "runs").exists() and not worker.exists(context)
        engine.append_results("run1", [(StepKey("m1"), staged["inline"])])
    finally:
        os.umask(old)
    assert worker.load(context) == {"n": 41} and worker.exists(context)
    log = tmp_path / "runs" / "run1" / "results.log"
    assert [p.name for p in log.parent.iterdir()] == ["results.log"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_task_result_larger_than_the_inline_limit_is_a_file_of_its_own(tmp_path):
    io = FilesystemIOManager(tmp_path)
    staged = io.stage(IOContext(StepKey("big"), "run1"), b"x" * 2000, "run1-1", inline=1024)
    assert "inline" not in staged and "staged" in staged
    io.publish(staged, first_attempt=True)
    assert io.load(IOContext(StepKey("big"), "run1")) == b"x" * 2000


def test_the_latest_attempt_wins_whether_logged_or_a_file(tmp_path):
    """A resumed run may run a step again as a later attempt, its value small or large."""
    io = FilesystemIOManager(tmp_path)
    context = IOContext(StepKey("report"), "run1")
    io.append_results(
        "run1", [(StepKey("report"), io.stage(context, 1, "run1-1", inline=99)["inline"])]
    )
    io.publish(io.stage(context, b"x" * 200, "run1-2", inline=99))
    assert FilesystemIOManager(tmp_path).load(context) == b"x" * 200
    io.append_results(
        "run1", [(StepKey("report"), io.stage(context, 3, "run1-3", inline=99)["inline"])]
    )
    assert FilesystemIOManager(tmp_path).load(context) == 3


def test_task_results_stored_one_file_each_by_earlier_versions_are_still_read(tmp_path):
    """Before the run's log, every task result was ``runs/<run>/<step>.pkl``."""
    io = FilesystemIOManager(tmp_path)
    io.store(IOContext(StepKey("old"), "run0"), "from a file")
    assert (tmp_path / "runs" / "run0" / "old.pkl").exists()
    assert FilesystemIOManager(tmp_path).load(IOContext(StepKey("old"), "run0")) == "from a file"


def test_a_logged_result_is_bound_to_its_step_and_run(tmp_path):
    """A signed value appended as another step's result is refused, as a moved file is."""
    io = FilesystemIOManager(tmp_path)
    staged = io.stage(IOContext(StepKey("a"), "run1"), "a's value", "run1-1", inline=1024)
    io.append_results("run1", [(StepKey("b"), staged["inline"])])
    with pytest.raises(SignatureError, match="changed or moved"):
        io.load(IOContext(StepKey("b"), "run1"))
