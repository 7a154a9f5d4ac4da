"""The one policy table: which role each route needs. Every request is checked against it.

A route missing from :data:`POLICY` is refused (fail closed), and ``tests/web/test_route_sweep.py``
walks the app's router so that adding a route without classifying it fails the build.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Roles, each allowed everything the ones before it are."""

    VIEWER = "viewer"  # reads definitions, runs, logs, assets
    OPERATOR = "operator"  # and launches, cancels and re-runs; steers backfills and triggers
    ADMIN = "admin"  # and manages users and their tokens, and reads the audit log

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}

PUBLIC = "public"  # no login needed: the health probe, login, and the static UI shell
SIGNED = "signed"  # no login and no CSRF cookie: the route checks an HMAC signature itself
Access = Role | str

V1 = "/api/v1"

POLICY: dict[tuple[str, str], Access] = {
    # probes and the UI shell
    ("GET", f"{V1}/health"): PUBLIC,
    ("POST", f"{V1}/webhooks/{{pipeline}}"): SIGNED,
    ("GET", "/"): PUBLIC,
    # session: who am I (public, so the UI can show the login page), log in, log out
    ("GET", f"{V1}/session"): PUBLIC,
    ("POST", f"{V1}/session"): PUBLIC,
    ("DELETE", f"{V1}/session"): Role.VIEWER,
    ("GET", f"{V1}/openapi.json"): Role.VIEWER,
    # definitions and lineage
    ("GET", f"{V1}/definitions"): Role.VIEWER,
    ("GET", f"{V1}/definitions/errors"): Role.VIEWER,
    ("GET", f"{V1}/graph"): Role.VIEWER,
    ("GET", f"{V1}/graph/layout"): Role.VIEWER,
    ("GET", f"{V1}/graph/status"): Role.VIEWER,
    ("GET", f"{V1}/config-schema"): Role.VIEWER,
    # assets
    ("GET", f"{V1}/assets/{{key}}"): Role.VIEWER,
    ("GET", f"{V1}/assets/{{key}}/materializations"): Role.VIEWER,
    ("GET", f"{V1}/assets/{{key}}/metadata"): Role.VIEWER,
    ("GET", f"{V1}/assets/{{key}}/partitions"): Role.VIEWER,
    ("GET", f"{V1}/assets/{{key}}/partitions/matrix"): Role.VIEWER,
    ("GET", f"{V1}/checks"): Role.VIEWER,
    # dynamic partition sets
    ("GET", f"{V1}/partitions/sets"): Role.VIEWER,
    ("GET", f"{V1}/partitions/sets/{{name}}"): Role.VIEWER,
    ("POST", f"{V1}/partitions/sets/{{name}}"): Role.OPERATOR,
    ("DELETE", f"{V1}/partitions/sets/{{name}}/{{partition_key}}"): Role.OPERATOR,
    # runs
    ("GET", f"{V1}/overview"): Role.VIEWER,
    ("GET", f"{V1}/runs"): Role.VIEWER,
    ("POST", f"{V1}/runs"): Role.OPERATOR,
    ("GET", f"{V1}/runs/{{run_id}}"): Role.VIEWER,
    ("GET", f"{V1}/runs/{{run_id}}/steps"): Role.VIEWER,
    ("GET", f"{V1}/runs/{{run_id}}/events"): Role.VIEWER,
    ("GET", f"{V1}/runs/{{run_id}}/logs"): Role.VIEWER,
    ("GET", f"{V1}/runs/{{run_id}}/logs/stream"): Role.VIEWER,
    ("POST", f"{V1}/runs/{{run_id}}/cancel"): Role.OPERATOR,
    ("POST", f"{V1}/runs/{{run_id}}/rerun"): Role.OPERATOR,
    ("POST", f"{V1}/runs/{{run_id}}/pin"): Role.OPERATOR,
    ("DELETE", f"{V1}/runs/{{run_id}}/pin"): Role.OPERATOR,
    # backfills (created here or by the CLI; the daemon plans and drives them)
    ("POST", f"{V1}/backfills"): Role.OPERATOR,
    ("GET", f"{V1}/backfills"): Role.VIEWER,
    ("GET", f"{V1}/backfills/{{backfill_id}}"): Role.VIEWER,
    ("POST", f"{V1}/backfills/{{backfill_id}}/pause"): Role.OPERATOR,
    ("POST", f"{V1}/backfills/{{backfill_id}}/resume"): Role.OPERATOR,
    ("POST", f"{V1}/backfills/{{backfill_id}}/cancel"): Role.OPERATOR,
    # automation: schedules, sensors, file arrival, OnUpdate
    ("GET", f"{V1}/automation/triggers"): Role.VIEWER,
    ("GET", f"{V1}/automation/triggers/{{trigger_id}}/ticks"): Role.VIEWER,
    ("POST", f"{V1}/automation/triggers/{{trigger_id}}/enable"): Role.OPERATOR,
    ("POST", f"{V1}/automation/triggers/{{trigger_id}}/disable"): Role.OPERATOR,
    # freshness policies, pipeline SLAs and their violations; alerts
    ("GET", f"{V1}/freshness"): Role.VIEWER,
    ("GET", f"{V1}/alerts"): Role.VIEWER,
    # API tokens of the caller
    ("GET", f"{V1}/tokens"): Role.VIEWER,
    ("POST", f"{V1}/tokens"): Role.VIEWER,
    ("DELETE", f"{V1}/tokens/{{token_id}}"): Role.VIEWER,
    # administration
    ("GET", f"{V1}/users"): Role.ADMIN,
    ("PATCH", f"{V1}/users/{{name}}"): Role.ADMIN,
    ("GET", f"{V1}/users/{{name}}/tokens"): Role.ADMIN,
    ("DELETE", f"{V1}/users/{{name}}/tokens/{{token_id}}"): Role.ADMIN,
    ("GET", f"{V1}/audit"): Role.ADMIN,
}

# Mounted sub-applications serve files only; each is listed here or the sweep fails.
PUBLIC_MOUNTS = frozenset({"/ui"})

# Exact paths a probe may call without credentials (S-01's allow-list).
UNAUTHENTICATED = frozenset(
    path for (_method, path), access in POLICY.items() if access == PUBLIC
) | frozenset(PUBLIC_MOUNTS)


def access_for(method: str, path: str) -> Access | None:
    """The access a route needs, or None if the route is not classified (then it is refused)."""
    return POLICY.get(("GET" if method == "HEAD" else method, path))
