"""What every route of one app shares: the store, settings, caches and the daemon's status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from legato.store.engine import Store
from legato.web.catalog import Catalog
from legato.web.config import AuthConfig, Limits
from legato.web.passwords import HashGate
from legato.web.statuses import NodeStatuses
from legato.web.throttle import LoginThrottle

DaemonStatus = Callable[[], dict[str, Any]]


@dataclass
class WebState:
    store: Store
    auth: AuthConfig
    limits: Limits
    daemon_status: DaemonStatus | None
    catalog: Catalog
    throttle: LoginThrottle = field(init=False)
    hash_gate: HashGate = field(init=False)
    statuses: NodeStatuses = field(init=False)
    open_streams: int = 0
    warned_untrusted_proxy: bool = False

    def __post_init__(self) -> None:
        self.throttle = LoginThrottle(self.store, self.auth)
        self.hash_gate = HashGate(self.auth.login_hash_slots)
        self.statuses = NodeStatuses(self.store)

    def daemon(self) -> dict[str, Any]:
        """The daemon's own report, or a plain statement that this server runs none."""
        if self.daemon_status is None:
            return {"state": "not_running", "detail": "no automation daemon in this process"}
        try:
            return dict(self.daemon_status())
        except Exception as exc:  # a failing status callback must not fail the health probe
            return {"state": "unknown", "detail": f"status check failed: {type(exc).__name__}"}


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.legato
    return state
