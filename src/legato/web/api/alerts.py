"""Alerts: what the daemon raised by the rules of legato.toml, open or resolved, with the
delivery of each message to its channels."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from legato.store.alerts import deliveries_of, list_alerts
from legato.web.api.params import BeforeId, Limit, State
from legato.web.policy import V1
from legato.web.schemas_alerts import AlertOut, AlertsOut, DeliveryOut

router = APIRouter(prefix=V1, tags=["alerts"])
AlertStatus = Annotated[Literal["open", "resolved"] | None, Query(description="open | resolved")]


@router.get("/alerts", response_model=AlertsOut)
def alerts(
    state: State, status: AlertStatus = None, before_id: BeforeId = None, limit: Limit = 50
) -> AlertsOut:
    """Alerts, newest first (``status`` for open or resolved ones), each with its messages:
    channel, firing or resolved, sent, pending (with its next attempt) or failed (with the
    error); continue with ``before_id``."""
    rows = list_alerts(state.store, status=status, before_id=before_id, limit=limit)
    sent = deliveries_of(state.store, [a.alert_id for a in rows])
    return AlertsOut(
        alerts=[
            AlertOut(
                alert_id=a.alert_id,
                kind=a.kind,
                subject=a.subject,
                status=a.status,
                summary=a.summary,
                detail=a.detail,
                channels=a.channels,
                opened_at=a.opened_at,
                last_seen_at=a.last_seen_at,
                occurrences=a.occurrences,
                resolved_at=a.resolved_at,
                deliveries=[
                    DeliveryOut(
                        channel=d.channel,
                        event=d.event,
                        status=d.status,
                        attempts=d.attempts,
                        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                        sent_at=d.sent_at,
                        last_error=d.last_error,
                    )
                    for d in sent[a.alert_id]
                ],
            )
            for a in rows
        ],
        next_before_id=rows[-1].alert_id if len(rows) == limit else None,
    )
