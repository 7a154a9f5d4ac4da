"""The code server keeps user code out of the daemon: a broken module is reported with its
file:line in the snapshot, what still loads is described, and the daemon keeps its triggers."""

import os
import textwrap
import time

from legato.automation.code import SubprocessCode
from legato.automation.daemon import Daemon
from legato.store.automation import list_triggers
from legato.store.engine import Store
from legato.store.snapshots import latest_snapshot

GOOD = """
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    hourly = lg.Pipeline("hourly", select="job", triggers=[lg.Every(3600)])
"""


def test_a_broken_module_is_reported_and_triggers_are_kept(tmp_path):
    (tmp_path / "legato.toml").write_text('modules = ["good", "bad"]\n')
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "bad.py").write_text("import legato as lg\n\nraise RuntimeError('boom')\n")
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    code = SubprocessCode(tmp_path, timeout=60)
    first_code, second_code = SubprocessCode(tmp_path), SubprocessCode(tmp_path)
    try:
        snap = code.snapshot()
        assert [n.key for n in snap.nodes] == ["job"]
        [error] = snap.errors
        assert "cannot import 'bad': RuntimeError: boom" in error.message
        assert error.error == "ProjectLoadError" and (error.source or "").endswith("bad.py:3")
        (tmp_path / "legato.toml").write_text('modules = ["good"]\n')  # fixed: triggers sync
        Daemon(
            store, code=first_code, project_dir=tmp_path, launch_runs=False, daemon_id="d1"
        ).tick_once()
        assert [t.trigger_id for t in list_triggers(store)] == ["hourly#0:every"]
        (tmp_path / "good.py").write_text("raise ImportError('half-deployed')\n")
        daemon = Daemon(
            store, code=second_code, project_dir=tmp_path, launch_runs=False, daemon_id="d1"
        )  # the same daemon, restarted with new code
        report = daemon.tick_once()
        assert any("triggers are kept" in e for e in report.errors)
        assert [t.trigger_id for t in list_triggers(store)] == ["hourly#0:every"]
        recorded = latest_snapshot(store)
        assert recorded is not None and recorded.errors
    finally:
        for server in (code, first_code, second_code):
            server.close()


def test_an_unchanged_answer_is_read_once_and_a_change_is_read_again(tmp_path):
    (tmp_path / "legato.toml").write_text('modules = ["good"]\n')
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    code = SubprocessCode(tmp_path, timeout=60)
    try:
        first = code.snapshot()
        assert code.snapshot() is first  # the same text: not decoded again
        changed = textwrap.dedent(GOOD).replace('"hourly"', '"daily"')
        (tmp_path / "good.py").write_text(changed)
        os.utime(tmp_path / "good.py", (time.time() + 5, time.time() + 5))  # newer for sure

        def reloaded() -> bool:
            return [p.name for p in code.snapshot().pipelines] == ["daily"]

        deadline = time.monotonic() + 30
        while not reloaded():
            assert time.monotonic() < deadline, "the code server never reloaded"
            time.sleep(0.1)
    finally:
        code.close()
