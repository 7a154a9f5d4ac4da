"""When the daemon's main loop wakes.

It wakes for its next full iteration, a freshness deadline or the earliest trigger, whichever
comes first. It also wakes ``PREPARE_AHEAD`` s before schedules fall due: their ticks are
claimed and planned then, so that only the commit is left when they fall due (on a busy machine
claiming and planning 200 ticks takes a good part of a second). No full iteration starts in
the last ``QUIET_BEFORE`` s before schedules fall due: one that runs long (loading the
definitions, say) would hold their commit up, so it runs just after it instead. Other triggers
are evaluated when they fall due meanwhile, as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError

from legato._internal.clock import Clock
from legato.definitions.trigger_specs import SCHEDULE_KINDS
from legato.errors import StoreError
from legato.store.automation import next_due_times
from legato.store.engine import Store

MIN_PAUSE = 0.01  # seconds the main loop rests at least between iterations
PREPARE_AHEAD = 0.5  # seconds before schedules fall due that their ticks are claimed and planned
QUIET_BEFORE = 0.8  # seconds before schedules fall due in which no full iteration starts


@dataclass(frozen=True)
class Wake:
    """Pause ``pause`` s; then, if ``prepare`` is set, plan the schedules due then."""

    pause: float
    prepare: datetime | None = None


class Pacing:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.due: float | None = None  # the earliest trigger's due time when last looked
        self.schedule_due: float | None = None  # the earliest schedule's
        self.looked_at = 0.0  # triggers due by then were evaluated, or seen already due

    def look(self, since: float | None = None) -> None:
        """Read when the earliest trigger and the earliest schedule fall due. ``since``: the
        time up to which due triggers were just evaluated (default: now)."""
        try:
            self.due, self.schedule_due = next_due_times(self.store, SCHEDULE_KINDS)
        except (DBAPIError, StoreError):
            self.due = self.schedule_due = None
        self.looked_at = self.clock.now().timestamp() if since is None else since

    def fell_due(self) -> bool:
        """Whether a trigger fell due since the last look. One due already then is either being
        evaluated in batches or held by another daemon: it does not jump the queue."""
        due = self.due
        return due is not None and self.looked_at < due <= self.clock.now().timestamp()

    def next_wake(
        self,
        full_in: float,
        interval: float,
        deadline: float | None = None,
        prepared: datetime | None = None,
    ) -> Wake:
        """How long to pause, ``full_in`` s before the next full iteration and with a freshness
        ``deadline`` (epoch seconds) or None, and whether to prepare schedules then. With ticks
        ``prepared``, the pause lasts until they fall due, or until another trigger does if it
        comes first (only full iterations wait for the prepared ticks)."""
        self.look()
        now = self.clock.now().timestamp()
        if prepared is not None:
            until = prepared.timestamp()
            if self.due is not None and now < self.due < until:
                until = self.due
            return Wake(max(0.0, until - now))
        first = min((d for d in (self.due, deadline) if d is not None), default=None)
        schedule = self.schedule_due
        if (
            schedule is not None
            and first is not None
            and schedule <= first
            and now < schedule < now + full_in + QUIET_BEFORE
        ):
            lead = max(0.0, schedule - PREPARE_AHEAD - now)
            return Wake(lead, datetime.fromtimestamp(schedule, UTC))
        pause = full_in if first is None else min(full_in, first - now)
        return Wake(min(max(pause, MIN_PAUSE), interval))
