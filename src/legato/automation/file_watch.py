"""Wake file-arrival triggers when their local landing directory changes, instead of waiting for
their next poll.

With ``watchdog`` installed (``pip install 'legato[watch]'``; inotify on Linux, FSEvents on
macOS), the daemon watches the local directory of every enabled ``FileArrival`` trigger. A change
makes the trigger due now and wakes the daemon's loop; the evaluation itself (is the batch
complete? stable?) is the same as on a poll. A batch is requested once its files stayed
unchanged for the trigger's ``stable_for``, which only an evaluation after that quiet period can
see: so the trigger is woken again when it ends (``stable_for`` plus a margin after the last
change, and once more as long again later, in case the daemon was busy). Polling at the trigger's
``interval`` stays on as the safety net, and is the only mechanism for fsspec URLs and where
watchdog is missing.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from legato.definitions.trigger_specs import FileArrivalSpec
from legato.store.automation import TriggerRow

log = logging.getLogger("legato.daemon")
DEBOUNCE = 0.01  # seconds: a burst of events (a batch being copied) marks the trigger due once
QUIET_MARGIN = 1.0  # seconds after a quiet period before the trigger is evaluated again


class FileWatch:
    """Watches the landing directories of file-arrival triggers; ``on_change(trigger_id)`` is
    called (from watchdog's thread, at most every ``DEBOUNCE`` s per trigger) when one changes."""

    def __init__(self, project_dir: Path, on_change: Callable[[str], None]) -> None:
        self.project_dir = project_dir
        self.on_change = on_change
        self._observer: Any = None
        self._watches: dict[str, tuple[Path, Any]] = {}  # trigger id → (directory, watch)
        self._last: dict[str, float] = {}
        self._quiet: dict[str, float] = {}  # trigger id → its stable_for
        self._timers: dict[str, threading.Timer] = {}  # the pending wake after a quiet period
        self._quiet_until: dict[str, tuple[float, int]] = {}  # → (when, wakes left)
        self._lock = threading.Lock()
        self.available = True

    def sync(self, triggers: Iterable[TriggerRow]) -> None:
        """Watch exactly the local directories of the enabled file-arrival triggers."""
        triggers = list(triggers)
        wanted = {
            t.trigger_id: directory
            for t in triggers
            if isinstance(t.spec, FileArrivalSpec) and t.enabled
            for directory in [self._local_dir(t.spec.path)]
            if directory is not None
        }
        self._quiet = {
            t.trigger_id: t.spec.stable_for
            for t in triggers
            if isinstance(t.spec, FileArrivalSpec) and t.trigger_id in wanted
        }
        if not wanted and self._observer is None:
            return
        observer = self._start()
        if observer is None:
            return
        for trigger_id, (directory, watch) in list(self._watches.items()):
            if wanted.get(trigger_id) != directory:
                observer.unschedule(watch)
                del self._watches[trigger_id]
        for trigger_id, directory in wanted.items():
            if trigger_id in self._watches or not directory.is_dir():
                continue  # a directory that does not exist yet is watched once it does
            handler = _handler(functools.partial(self._changed, trigger_id))
            watch = observer.schedule(handler, str(directory), recursive=True)
            self._watches[trigger_id] = (directory, watch)

    def watching(self) -> dict[str, Path]:
        return {trigger_id: directory for trigger_id, (directory, _) in self._watches.items()}

    def close(self) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
            self._quiet_until.clear()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(10)
            self._observer = None
        self._watches.clear()

    def _changed(self, trigger_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._wake_after_quiet(trigger_id)
            if now - self._last.get(trigger_id, 0.0) < DEBOUNCE:
                return
            self._last[trigger_id] = now
        self._wake(trigger_id)

    def _wake(self, trigger_id: str) -> None:
        try:
            self.on_change(trigger_id)
        except Exception:  # the poll still finds the batch; never let watchdog's thread die
            log.exception("waking file trigger %s failed", trigger_id)

    def _wake_after_quiet(self, trigger_id: str) -> None:
        """Arm (or push back) the wakes at the end of the trigger's quiet period; under the lock.
        One timer per trigger at most, however many events a batch makes."""
        quiet = self._quiet.get(trigger_id, 0.0)
        if quiet <= 0:
            return
        self._quiet_until[trigger_id] = (time.monotonic() + quiet + QUIET_MARGIN, 2)
        if trigger_id not in self._timers:
            self._arm(trigger_id, quiet + QUIET_MARGIN)

    def _arm(self, trigger_id: str, delay: float) -> None:
        timer = threading.Timer(delay, self._quiet_ended, (trigger_id,))
        timer.daemon = True
        self._timers[trigger_id] = timer
        timer.start()

    def _quiet_ended(self, trigger_id: str) -> None:
        with self._lock:
            if self._timers.pop(trigger_id, None) is None:
                return  # closed meanwhile
            until, wakes = self._quiet_until.pop(trigger_id, (0.0, 0))
            remaining = until - time.monotonic()
            if remaining > 0:  # changed again meanwhile: the quiet period starts over
                self._quiet_until[trigger_id] = (until, wakes)
                self._arm(trigger_id, remaining)
                return
            if wakes > 1:
                period = self._quiet.get(trigger_id, 0.0) + QUIET_MARGIN
                self._quiet_until[trigger_id] = (time.monotonic() + period, wakes - 1)
                self._arm(trigger_id, period)
        self._wake(trigger_id)

    def _local_dir(self, path: str) -> Path | None:
        if not path or ("://" in path and not path.startswith("file://")):
            return None  # an fsspec URL: polled
        local = Path(path.removeprefix("file://"))
        return (local if local.is_absolute() else self.project_dir / local).resolve()

    def _start(self) -> Any:
        if self._observer is None and self.available:
            try:
                from watchdog.observers import Observer
            except ImportError:
                self.available = False
                log.info("watchdog is not installed; file-arrival triggers are polled only")
                return None
            self._observer = Observer()
            self._observer.daemon = True
            self._observer.start()
        return self._observer


def _handler(callback: Callable[[], None]) -> Any:
    from watchdog.events import FileSystemEventHandler

    class Changed(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            if event.event_type not in ("opened", "closed_no_write"):  # reads change nothing
                callback()

    return Changed()
