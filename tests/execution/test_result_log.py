"""A run's task results in one append-only log: whole records only, the last one of a step
wins, a torn tail is never read and is cut off by the next writer."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from legato.execution.io import result_log
from legato.execution.io.result_log import RunLogs, append, encode, scan


def _append(path, *records):
    append(str(path), list(records), durable=False, checked=set())


def test_the_last_record_of_a_step_wins(tmp_path):
    log = tmp_path / "results.log"
    _append(log, encode("a", b"first"), encode("b", b"other"))
    _append(log, encode("a", b"second"))
    logs = RunLogs()
    assert logs.find(str(log), "a")[1] == b"second"
    assert logs.find(str(log), "b")[1] == b"other"
    assert logs.find(str(log), "c") is None
    assert RunLogs().find(str(tmp_path / "missing.log"), "a") is None


def test_a_reader_finds_records_appended_after_it_first_looked(tmp_path):
    log = tmp_path / "results.log"
    _append(log, encode("a", b"1"))
    logs = RunLogs()
    assert logs.find(str(log), "a")[1] == b"1" and logs.find(str(log), "b") is None
    _append(log, encode("b", b"2"))
    assert logs.find(str(log), "b")[1] == b"2"


def test_a_pointer_record_has_no_value(tmp_path):
    log = tmp_path / "results.log"
    _append(log, encode("a", b"inline"), encode("a", b""))
    entry, value = RunLogs().find(str(log), "a")
    assert value == b"" and entry.length == 0


@pytest.mark.parametrize("cut", [3, result_log._HEAD.size + 1, -1])
def test_a_torn_tail_is_not_read_and_the_next_writer_cuts_it_off(tmp_path, cut):
    log = tmp_path / "results.log"
    whole = encode("a", b"kept")
    torn = encode("b", b"x" * 100)
    log.write_bytes(whole + torn[:cut])
    with open(log, "rb") as f:
        end, entries = scan(f.fileno(), 0, os.path.getsize(log))
    assert end == len(whole) and list(entries) == ["a"]
    assert RunLogs().find(str(log), "b") is None
    _append(log, encode("c", b"after"))
    assert log.read_bytes() == whole + encode("c", b"after")
    assert RunLogs().find(str(log), "c")[1] == b"after"


def test_garbage_after_a_crash_ends_the_scan(tmp_path):
    """A machine crash may leave zeros where a write had not reached the disk."""
    log = tmp_path / "results.log"
    record = encode("b", b"value")
    zeroed = record[: result_log._HEAD.size + 1] + bytes(len(record) - result_log._HEAD.size - 1)
    log.write_bytes(encode("a", b"1") + zeroed + bytes(64))
    with open(log, "rb") as f:
        end, entries = scan(f.fileno(), 0, os.path.getsize(log))
    assert end == len(encode("a", b"1")) and list(entries) == ["a"]


def test_a_record_larger_than_a_read_chunk_is_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(result_log, "_CHUNK", 64)
    log = tmp_path / "results.log"
    big = os.urandom(1000)
    _append(log, encode("small", b"s"), encode("big", big), encode("after", b"a"))
    logs = RunLogs()
    assert logs.find(str(log), "big")[1] == big
    assert logs.find(str(log), "after")[1] == b"a"


def test_a_record_changed_after_it_was_indexed_is_refused(tmp_path):
    log = tmp_path / "results.log"
    _append(log, encode("a", b"value"))
    logs = RunLogs()
    entry, _ = logs.find(str(log), "a")
    with open(log, "r+b") as f:
        f.seek(entry.offset)
        f.write(b"V")
    with pytest.raises(OSError, match="changed after it was written"):
        logs.find(str(log), "a")


def test_a_writer_killed_mid_write_loses_only_its_own_batch(tmp_path):
    """SIGKILL while a large batch is being written: what was appended before stays readable,
    and the next writer's records follow it."""
    log = tmp_path / "results.log"
    _append(log, encode("before", b"kept"))
    script = textwrap.dedent(f"""
        import os, sys
        from legato.execution.io import result_log

        real = os.write
        def write(fd, data):
            real(fd, bytes(data)[: len(data) // 2])
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            os.kill(os.getpid(), 9)
        os.write = write
        os.writev = lambda fd, chunks: write(fd, b"".join(chunks))
        batch = [result_log.encode(f"s{{i}}", b"x" * 10_000) for i in range(50)]
        result_log.append({str(log)!r}, batch, durable=False, checked=set())
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL and "writing" in proc.stdout
    assert RunLogs().find(str(log), "before")[1] == b"kept"
    _append(log, encode("after", b"new"))
    logs = RunLogs()
    assert logs.find(str(log), "after")[1] == b"new"
    assert logs.find(str(log), "before")[1] == b"kept"


def test_threads_reading_many_runs_logs_at_once_each_get_their_values(tmp_path, monkeypatch):
    """The threads executor's steps share one reader; its index of runs is kept small."""
    monkeypatch.setattr(result_log, "_KEPT", 2)
    logs = [tmp_path / f"run{i}.log" for i in range(12)]
    for i, log in enumerate(logs):
        _append(log, *(encode(f"s{j}", f"{i}:{j}".encode()) for j in range(20)))
    reader, wrong, failed = RunLogs(), [], []

    def read(offset: int) -> None:
        try:
            for n in range(300):
                i, j = (n * 7 + offset) % len(logs), (n + offset) % 20
                value = reader.find(str(logs[i]), f"s{j}")[1]
                if value != f"{i}:{j}".encode():
                    wrong.append((i, j, value))
        except Exception as exc:
            failed.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=read, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(old)
    assert failed == [] and wrong == []


def test_a_reader_sent_to_another_process_starts_with_nothing_indexed(tmp_path):
    log = tmp_path / "results.log"
    _append(log, encode("a", b"1"))
    reader = RunLogs()
    reader.find(str(log), "a")
    copy = pickle.loads(pickle.dumps(reader))
    assert copy._runs == {} and copy.find(str(log), "a")[1] == b"1"


def test_a_batch_of_more_records_than_writev_takes_is_appended_whole(tmp_path):
    log = tmp_path / "results.log"
    _append(log, *[encode(f"s{i}", str(i).encode()) for i in range(3000)])
    logs = RunLogs()
    assert [logs.find(str(log), f"s{i}")[1] for i in (0, 1499, 2999)] == [b"0", b"1499", b"2999"]
