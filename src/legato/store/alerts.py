"""Alerts (one open per kind and subject) and their deliveries to channels.

An alert opens with a "firing" delivery to each of its channels and resolves with a "resolved"
one, each written in the transaction that opens or resolves it. Deliveries are claimed under a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two daemons never send one message at
once, and one whose daemon died is sent by another after the lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from legato._internal.ids import bounded_key
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.schema_alerts import alert_deliveries, alerts
from legato.store.schema_freshness import SUBJECT_LENGTH

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Incident:
    """What a fact is about, as an alert would say it."""

    kind: str
    subject: str
    summary: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Alert:
    alert_id: int
    kind: str
    subject: str
    status: str  # open | resolved
    summary: str
    detail: dict[str, Any]
    channels: list[str]
    opened_at: float
    last_seen_at: float
    occurrences: int
    resolved_at: float | None


@dataclass(frozen=True)
class Delivery:
    id: int
    alert_id: int
    channel: str
    event: str  # firing | resolved
    status: str
    attempts: int
    next_attempt_at: float
    created_at: float
    sent_at: float | None
    last_error: str | None


def _open_key(kind: str, subject: str) -> str:
    return bounded_key(f"{kind}:{subject}", SUBJECT_LENGTH)


def raise_alert(
    conn: Connection,
    incident: Incident,
    channels: Sequence[str],
    *,
    now: float,
    recovered: bool = False,
) -> int | None:
    """Open an alert for ``incident`` with a firing delivery per channel; if one is open for its
    subject, count the occurrence instead (no new message). ``recovered``: it recovered before
    anyone heard of it, so it is recorded resolved, with its one message. Returns the new
    alert's id, or None."""
    a = alerts.c
    key = _open_key(incident.kind, incident.subject)
    values = {
        "kind": incident.kind,
        "subject": incident.subject,
        "summary": incident.summary,
        "detail": dict(incident.detail),
        "channels": list(channels),
        "opened_at": now,
        "last_seen_at": now,
        "occurrences": 1,
    }
    if recovered:
        insert = upsert(conn.dialect.name, alerts).values(
            **values, status="resolved", resolved_at=now, open_key=None
        )
        new_id = conn.execute(insert.returning(a.alert_id)).scalar()
    else:
        insert = upsert(conn.dialect.name, alerts).values(**values, status="open", open_key=key)
        stmt = insert.on_conflict_do_nothing(index_elements=["open_key"]).returning(a.alert_id)
        new_id = conn.execute(stmt).scalar()
        if new_id is None:  # open already: one more occurrence of it
            conn.execute(
                update(alerts)
                .where(a.open_key == key)
                .values(last_seen_at=now, occurrences=a.occurrences + 1)
            )
            return None
    alert_id = int(str(new_id))
    _enqueue(conn, alert_id, channels, "firing", now)
    return alert_id


def resolve_alert(conn: Connection, alert: Alert, *, now: float) -> bool:
    """Resolve an open alert and queue its "resolved" messages; False if it was resolved
    already (by another daemon)."""
    a = alerts.c
    done = conn.execute(
        update(alerts)
        .where(a.alert_id == alert.alert_id, a.status == "open")
        .values(status="resolved", resolved_at=now, open_key=None)
    ).rowcount
    if done:
        _enqueue(conn, alert.alert_id, alert.channels, "resolved", now)
    return bool(done)


def _enqueue(
    conn: Connection, alert_id: int, channels: Sequence[str], event: str, now: float
) -> None:
    if not channels:
        return
    rows = [
        {
            "alert_id": alert_id,
            "channel": name,
            "event": event,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for name in channels
    ]
    stmt = upsert(conn.dialect.name, alert_deliveries).on_conflict_do_nothing(
        index_elements=["alert_id", "channel", "event"]
    )
    conn.execute(stmt, rows)


def open_alerts(conn: Connection, limit: int = 1000) -> list[Alert]:
    a = alerts.c
    query = select(alerts).where(a.status == "open").order_by(a.alert_id).limit(limit)
    return [_alert(r) for r in conn.execute(query)]


def list_alerts(
    store: Store, *, status: str | None = None, before_id: int | None = None, limit: int = 50
) -> list[Alert]:
    """Alerts, newest first."""
    a = alerts.c
    query = select(alerts).order_by(a.alert_id.desc()).limit(limit)
    if status is not None:
        query = query.where(a.status == status)
    if before_id is not None:
        query = query.where(a.alert_id < before_id)
    with store.read() as conn:
        return [_alert(r) for r in conn.execute(query)]


def get_alert(store: Store, alert_id: int) -> Alert | None:
    with store.read() as conn:
        row = conn.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()
    return None if row is None else _alert(row)


def deliveries_of(store: Store, alert_ids: Sequence[int]) -> dict[int, list[Delivery]]:
    d = alert_deliveries.c
    out: dict[int, list[Delivery]] = {i: [] for i in alert_ids}
    if not alert_ids:
        return out
    query = select(alert_deliveries).where(d.alert_id.in_(list(alert_ids))).order_by(d.id)
    with store.read() as conn:
        for row in conn.execute(query):
            out[row.alert_id].append(_delivery(row))
    return out


def claim_deliveries(
    store: Store,
    owner: str,
    *,
    now: float,
    lease: float,
    room: Mapping[str, int],
    limit: int = 20,
) -> list[Delivery]:
    """Claim pending deliveries that are due and free, at most ``room[channel]`` per channel
    (what its rate limit allows now; a channel not in ``room`` is not limited here). A
    "resolved" message waits for its alert's "firing" one on the same channel."""
    d = alert_deliveries.c
    first = alert_deliveries.alias("first")
    firing_pending = exists(
        select(first.c.id).where(
            first.c.alert_id == d.alert_id,
            first.c.channel == d.channel,
            first.c.event == "firing",
            first.c.status == PENDING,
        )
    )
    query = (
        select(alert_deliveries)
        .where(
            d.status == PENDING,
            d.next_attempt_at <= now,
            or_(d.owner.is_(None), d.lease_until < now),
            or_(d.event == "firing", ~firing_pending),
        )
        .order_by(d.next_attempt_at, d.id)
        .limit(limit * 5)
    )
    taken: list[Delivery] = []
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=alert_deliveries, skip_locked=True)
        left = dict(room)
        for row in conn.execute(query).all():
            if len(taken) >= limit:
                break
            if left.get(row.channel, 1) <= 0:
                continue
            if row.channel in left:
                left[row.channel] -= 1
            taken.append(_delivery(row))
        if taken:
            conn.execute(
                update(alert_deliveries)
                .where(d.id.in_([t.id for t in taken]))
                .values(owner=owner, lease_until=now + lease)
            )
    return taken


def sent_since(store: Store, since: float) -> dict[str, int]:
    """Messages sent per channel since ``since`` (for rate limits)."""
    d = alert_deliveries.c
    with store.read() as conn:
        rows = conn.execute(
            select(d.channel, func.count())
            .where(d.status == SENT, d.sent_at >= since)
            .group_by(d.channel)
        ).all()
    return {str(channel): int(n) for channel, n in rows}


def finish_delivery(
    store: Store,
    delivery: Delivery,
    owner: str,
    *,
    now: float,
    error: str | None = None,
    retry_at: float | None = None,
) -> bool:
    """Record a claimed delivery's outcome: sent (no ``error``), to be retried at ``retry_at``,
    or failed for good. Fenced by ``owner``: False if another daemon took it over meanwhile."""
    d = alert_deliveries.c
    values: dict[str, Any] = {"owner": None, "lease_until": None, "attempts": d.attempts + 1}
    if error is None:
        values.update(status=SENT, sent_at=now, last_error=None)
    else:
        values.update(last_error=error[:2000])
        if retry_at is None:
            values.update(status=FAILED)
        else:
            values.update(next_attempt_at=retry_at)
    with store.transaction() as conn:
        done = conn.execute(
            update(alert_deliveries)
            .where(and_(d.id == delivery.id, d.owner == owner, d.status == PENDING))
            .values(**values)
        ).rowcount
    return bool(done)


def _alert(r: Any) -> Alert:
    return Alert(
        r.alert_id,
        r.kind,
        r.subject,
        r.status,
        r.summary,
        r.detail or {},
        r.channels or [],
        r.opened_at,
        r.last_seen_at,
        r.occurrences,
        r.resolved_at,
    )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        r.id,
        r.alert_id,
        r.channel,
        r.event,
        r.status,
        r.attempts,
        r.next_attempt_at,
        r.created_at,
        r.sent_at,
        r.last_error,
    )


def next_delivery_due(store: Store) -> float | None:
    """When the earliest pending message is due (epoch seconds), if any."""
    d = alert_deliveries.c
    with store.read() as conn:
        value = conn.execute(
            select(func.min(d.next_attempt_at)).where(d.status == PENDING)
        ).scalar()
    return None if value is None else float(value)
