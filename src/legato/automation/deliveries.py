"""The daemon's delivery loop: send queued alert messages, each channel within its rate limit,
retrying failures with exponential back-off.

Messages are claimed under a lease, so a daemon that dies mid-send leaves them to another (or
to itself after a restart): a message may be sent twice then, never lost. One over its
channel's rate limit waits for the next minute. A message that still fails a day after it was
queued is given up and recorded failed, with its last error.
"""

from __future__ import annotations

import logging
import threading

from legato._internal.clock import Clock
from legato.automation.channels import DeliveryError, message, send
from legato.automation.loop_health import LoopHealth
from legato.loader.alerts import AlertSettings
from legato.store.alerts import Delivery, claim_deliveries, finish_delivery, get_alert, sent_since
from legato.store.engine import Store

log = logging.getLogger("legato.daemon")
FIRST_RETRY = 2.0  # seconds; doubled at each failure
MAX_RETRY = 600.0
GIVE_UP_AFTER = 86400.0  # seconds after a message was queued
LEASE = 60.0  # a claimed message is another daemon's to send after this


class DeliveryLoop:
    def __init__(
        self,
        store: Store,
        settings: AlertSettings,
        owner: str,
        clock: Clock,
        wake: threading.Event | None = None,
        health: LoopHealth | None = None,
    ) -> None:
        self.store, self.settings, self.owner, self.clock = store, settings, owner, clock
        self.wake = wake or threading.Event()
        self.health = health or LoopHealth()

    def deliver_due(self) -> int:
        """Send every message that is due now (within rate limits); how many went."""
        sent = 0
        while True:
            now = self.clock.now().timestamp()
            recent = sent_since(self.store, now - 60.0)
            room = {
                name: max(0, channel.max_per_minute - recent.get(name, 0))
                for name, channel in self.settings.channels.items()
            }
            claimed = claim_deliveries(self.store, self.owner, now=now, lease=LEASE, room=room)
            for delivery in claimed:
                sent += self._deliver(delivery)
            if len(claimed) < 20:
                return sent

    def _deliver(self, delivery: Delivery) -> int:
        now = self.clock.now().timestamp()
        channel = self.settings.channels.get(delivery.channel)
        alert = get_alert(self.store, delivery.alert_id)
        if channel is None or alert is None:
            why = f"channel {delivery.channel!r} is no longer configured" if alert else "no alert"
            finish_delivery(self.store, delivery, self.owner, now=now, error=why)
            return 0
        payload = message(
            alert_id=alert.alert_id,
            kind=alert.kind,
            event=delivery.event,
            subject=alert.subject,
            summary=alert.summary,
            status=alert.status,
            opened_at=alert.opened_at,
            resolved_at=alert.resolved_at,
            occurrences=alert.occurrences,
            detail=alert.detail,
        )
        try:
            send(channel, payload)
        except DeliveryError as exc:
            delay = min(FIRST_RETRY * 2**delivery.attempts, MAX_RETRY)
            retry = now + delay if now + delay < delivery.created_at + GIVE_UP_AFTER else None
            log.warning("alert %s to %s: %s", alert.alert_id, channel.name, exc)
            finish_delivery(
                self.store, delivery, self.owner, now=now, error=str(exc), retry_at=retry
            )
            return 0
        return int(finish_delivery(self.store, delivery, self.owner, now=now))

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Deliver until ``stop`` is set: at once when woken, else every ``interval`` s."""
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception as exc:  # the loop survives anything, and says so
                log.exception("alert delivery failed; retrying")
                self.health.failed("deliveries", f"{type(exc).__name__}: {exc}")
            else:
                self.health.ok("deliveries")
            self.wake.wait(interval)
            self.wake.clear()
