"""The latest status of every node, for the lineage colours: read at most once a second."""

from __future__ import annotations

import threading
import time

from legato.store.engine import Store
from legato.store.web_queries import last_materialized, node_statuses
from legato.web.catalog import Definitions


class NodeStatuses:
    """``(statuses, materialized_at)`` for the nodes of ``defs``, shared by all callers."""

    def __init__(self, store: Store, max_age: float = 1.0) -> None:
        self.store, self.max_age = store, max_age
        self._lock = threading.Lock()
        self._at = -1e9
        self._fingerprint = ""
        self._value: tuple[dict[str, str], dict[str, float]] = ({}, {})

    def get(self, defs: Definitions) -> tuple[dict[str, str], dict[str, float]]:
        with self._lock:
            fresh = time.monotonic() - self._at < self.max_age
            if fresh and self._fingerprint == defs.fingerprint:
                return self._value
            statuses = {k: s for k, (s, _) in node_statuses(self.store).items() if k in defs.nodes}
            times = {k: t for k, t in last_materialized(self.store).items() if k in defs.nodes}
            self._value, self._at, self._fingerprint = (
                (statuses, times),
                time.monotonic(),
                defs.fingerprint,
            )
            return self._value
