"""The file watch wakes a file-arrival trigger when its directory changes, and again when the
trigger's quiet period (``stable_for``) has passed since the last change: only an evaluation
then can see the batch stable, whatever the trigger's poll interval."""

import threading
import time

from legato.automation import file_watch
from legato.automation.file_watch import FileWatch
from legato.definitions.trigger_specs import FileArrivalSpec
from legato.store.automation import TriggerRow


def _trigger(path, stable_for):
    spec = FileArrivalSpec(path=str(path), pattern="*.csv", stable_for=stable_for)
    return TriggerRow("files#0:file_arrival", "files", "file_arrival", spec, True, None, None, 0.0)


def test_a_trigger_is_woken_when_its_quiet_period_has_passed(tmp_path, monkeypatch):
    monkeypatch.setattr(file_watch, "QUIET_MARGIN", 0.1)
    wakes: list[float] = []
    woken = threading.Event()

    def on_change(trigger_id):
        wakes.append(time.monotonic())
        woken.set()

    watch = FileWatch(tmp_path, on_change)
    try:
        watch.sync([_trigger(tmp_path, stable_for=0.5)])
        assert watch.watching() == {"files#0:file_arrival": tmp_path.resolve()}
        with open(tmp_path / "orders.csv", "w") as f:
            for i in range(5):  # still being written: the quiet period starts over each time
                f.write(f"{i}\n")
                f.flush()
                time.sleep(0.1)
        written = time.monotonic()
        assert woken.wait(10)
        deadline = time.monotonic() + 10
        while len(_after(wakes, written)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.8)  # no third wake comes
        # woken at each change, then not before the quiet period has passed (and once more): an
        # ordering, not a timing - a loaded machine may wake it later, never earlier
        late = _after(wakes, written)
        assert 1 <= len(late) <= 2 and all(p >= 0.45 for p in late), wakes
    finally:
        watch.close()


def _after(wakes, written):
    """How long after the last write each wake that ends a quiet period came."""
    return [w - written for w in wakes if w - written > 0.3]


def test_without_a_quiet_period_a_change_wakes_the_trigger_once(tmp_path):
    woken = threading.Event()
    watch = FileWatch(tmp_path, lambda trigger_id: woken.set())
    try:
        watch.sync([_trigger(tmp_path, stable_for=0)])
        (tmp_path / "orders.csv").write_text("1\n")
        assert woken.wait(10)
        assert watch._timers == {}
    finally:
        watch.close()
