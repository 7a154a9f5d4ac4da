"""Wake file-arrival triggers when their local landing directory changes, instead of waiting for
their next poll.

With ``watchdog`` installed (``pip install 'legato[watch]'``; inotify on Linux, FSEvents on
macOS), the daemon watches the local directory of every enabled ``FileArrival`` trigger. A change
makes the trigger due now and wakes the daemon's loop; the evaluation itself (is the batch
complete? stable?) is the same as on a poll. Polling at the trigger's ``interval`` stays on as
the safety net, and is the only mechanism for fsspec URLs and where watchdog is missing.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from legato.store.automation import TriggerRow

log = logging.getLogger("legato.daemon")
DEBOUNCE = 0.01  # seconds: a burst of events (a batch being copied) marks the trigger due once


class FileWatch:
    """Watches the landing directories of file-arrival triggers; ``on_change(trigger_id)`` is
    called (from watchdog's thread, at most every ``DEBOUNCE`` s per trigger) when one changes."""

    def __init__(self, project_dir: Path, on_change: Callable[[str], None]) -> None:
        self.project_dir = project_dir
        self.on_change = on_change
        self._observer: Any = None
        self._watches: dict[str, tuple[Path, Any]] = {}  # trigger id → (directory, watch)
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.available = True

    def sync(self, triggers: Iterable[TriggerRow]) -> None:
        """Watch exactly the local directories of the enabled file-arrival triggers."""
        wanted = {
            t.trigger_id: directory
            for t in triggers
            if t.kind == "file_arrival" and t.enabled
            for directory in [self._local_dir(t.spec.get("path", ""))]
            if directory is not None
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
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(10)
            self._observer = None
        self._watches.clear()

    def _changed(self, trigger_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(trigger_id, 0.0) < DEBOUNCE:
                return
            self._last[trigger_id] = now
        try:
            self.on_change(trigger_id)
        except Exception:  # the poll still finds the batch; never let watchdog's thread die
            log.exception("waking file trigger %s failed", trigger_id)

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
