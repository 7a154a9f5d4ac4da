"""The daemon's alert loop: facts from the outbox become alerts by the rules of legato.toml,
and open alerts whose subject recovered are resolved.

Facts are taken, turned into alerts with their deliveries and deleted in ONE transaction: a
crash before the commit leaves them to take again, after it leaves nothing to redo. On
PostgreSQL each daemon locks the facts it takes (``SKIP LOCKED``), and an alert's unique open
key makes racing daemons fold the same subject into one alert.
"""

from __future__ import annotations

import threading
from datetime import datetime

from legato.automation.incidents import describe, is_recovered, recovered
from legato.automation.tick_report import TickReport
from legato.loader.alerts import AlertSettings
from legato.store.alert_outbox import drop_facts, has_facts, take_facts
from legato.store.alerts import open_alerts, raise_alert, resolve_alert
from legato.store.engine import Store
from legato.store.snapshots import SnapshotCache

RECOVERY_EVERY = 2.0  # seconds between looks at whether open alerts recovered


class AlertLoop:
    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        snapshots: SnapshotCache,
        wake: threading.Event | None = None,
    ) -> None:
        self.store, self.settings, self.snapshots = store, settings, snapshots
        self.wake = wake or threading.Event()  # set when messages were queued
        self._recovery_at = 0.0

    def look(self, now: datetime, report: TickReport) -> None:
        at = now.timestamp()
        queued = self._take_facts(at)
        if at >= self._recovery_at:
            self._recovery_at = at + RECOVERY_EVERY
            queued += self._resolve_recovered(at)
        if queued:
            self.wake.set()

    def _take_facts(self, at: float) -> int:
        raised = 0
        if not has_facts(self.store):
            return 0
        snap = self.snapshots.get()
        while True:
            with self.store.transaction() as conn:
                facts = take_facts(conn)
                for fact in facts:
                    found = describe(conn, fact, snap)
                    if found is None:  # what it names is gone (a run deleted, say)
                        continue
                    incident, attributes = found
                    channels = self.settings.channels_for(incident.kind, attributes)
                    if not channels:
                        continue
                    done = recovered(conn, incident.kind, incident.detail)
                    if raise_alert(conn, incident, channels, now=at, recovered=done):
                        raised += 1
                drop_facts(conn, facts)
            if len(facts) < 200:
                return raised

    def _resolve_recovered(self, at: float) -> int:
        """Resolve the open alerts whose subject recovered: looked at in a read, written only
        for those (each resolved once even if two daemons look: see ``resolve_alert``)."""
        with self.store.read() as conn:
            done = [a for a in open_alerts(conn) if is_recovered(conn, a)]
        if not done:
            return 0
        with self.store.transaction() as conn:
            return sum(resolve_alert(conn, alert, now=at) for alert in done)
