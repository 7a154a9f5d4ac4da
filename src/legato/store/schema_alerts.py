"""Tables of alerting: the outbox of facts that may raise alerts, alerts (one open per subject,
by a unique ``open_key`` as for violations), and their deliveries to channels."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from legato.store._json import Json
from legato.store.schema import metadata
from legato.store.schema_freshness import SUBJECT_LENGTH

# Facts that may raise an alert, written in the transaction of the fact itself (a run's failure
# event, a violation, a failed tick, a daemon found dead); the daemon's alert loop turns them
# into alerts by the rules of legato.toml and deletes them in the same transaction.
alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # run_failed | freshness_missed | ...
    Column("ref", String(SUBJECT_LENGTH), nullable=False),  # run id, violation id, trigger id...
    Column("ts", Float, nullable=False),
    Column("detail", Json, nullable=False, default=dict),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(1400), nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved
    Column("summary", Text, nullable=False),
    Column("detail", Json, nullable=False, default=dict),
    Column("channels", Json, nullable=False, default=list),  # names, from the matching rules
    Column("opened_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("occurrences", Integer, nullable=False, default=1),  # facts folded into it
    Column("resolved_at", Float),
    Column("open_key", String(SUBJECT_LENGTH)),  # kind:subject while open, else NULL
    UniqueConstraint("open_key", name="uq_alerts_open_key"),
)
Index("ix_alerts_status", alerts.c.status, alerts.c.alert_id)

# One message of one alert to one channel ("firing" or "resolved"), claimed under a lease by a
# daemon's delivery loop, retried with exponential back-off.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "alert_id",
        Integer,
        ForeignKey("alerts.alert_id", ondelete="CASCADE", name="fk_alert_deliveries_alert"),
        nullable=False,
    ),
    Column("channel", String(64), nullable=False),
    Column("event", String(16), nullable=False),  # firing | resolved
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("owner", String(120)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
    Column("last_error", Text),
    UniqueConstraint("alert_id", "channel", "event", name="uq_alert_deliveries_message"),
)
Index("ix_alert_deliveries_due", alert_deliveries.c.status, alert_deliveries.c.next_attempt_at)
Index("ix_alert_deliveries_sent", alert_deliveries.c.channel, alert_deliveries.c.sent_at)
