"""``Freshness``: how recent an asset's latest materialization must be, as pure data.

Either a maximum lag (``max_lag="2h"``: materialized within the last two hours) or a daily
deadline in a time zone (``deadline="06:00"``: by each 06:00, a materialization made since the
previous 06:00). For a time-partitioned asset both apply to partitions: the latest window that
should be there by now (its end plus the lag, or the deadline) must be materialized.

An invalid policy is reported when it is attached to an asset, so the error names the asset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from legato._internal.durations import EXAMPLES, format_duration, parse_duration
from legato.errors import DefinitionError

if TYPE_CHECKING:
    from legato.definitions.schedules import Cron

_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Freshness:
    """How fresh an asset must be; the daemon records each miss and recovery.

    Args:
        max_lag: the latest materialization may be at most this old (``"2h"``, ``"45m"``, a
            number of seconds or a ``timedelta``). For a time-partitioned asset: each window must
            be materialized within this long after it ends.
        deadline: ``"HH:MM"`` (every day) or a cron expression (``"0 6 * * 1-5"``): by each
            deadline the asset must have been materialized since the one before. For a
            time-partitioned asset: the latest window ended by the deadline must be materialized.
        timezone: the IANA zone of ``deadline`` (default UTC).

    Example:
        >>> @asset(freshness=Freshness(deadline="06:00", timezone="Europe/Paris"))
        ... def daily_report() -> str: ...
    """

    max_lag: Any = None
    deadline: str | None = None
    timezone: str = "UTC"
    lag_seconds: float | None = field(default=None, init=False, compare=False)
    cron: Cron | None = field(default=None, init=False, compare=False, repr=False)
    problem: tuple[str, str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._parse()
        except _Invalid as bad:
            object.__setattr__(self, "problem", (bad.problem, bad.fix))

    def _parse(self) -> None:
        if (self.max_lag is None) == (self.deadline is None):
            raise _Invalid(
                "needs max_lag or deadline (one of them)",
                'write Freshness(max_lag="2h") or Freshness(deadline="06:00", timezone="UTC")',
            )
        if self.max_lag is not None:
            if self.timezone != "UTC":
                raise _Invalid("timezone applies to deadline only", "remove timezone=")
            try:
                object.__setattr__(self, "lag_seconds", parse_duration(self.max_lag))
            except ValueError as exc:
                raise _Invalid(f"max_lag: {exc}", f"write max_lag as {EXAMPLES}") from None
            return
        if not isinstance(self.deadline, str):
            raise _Invalid(f"deadline={self.deadline!r} is not a time", 'write deadline="06:00"')
        clock = _CLOCK.fullmatch(self.deadline.strip())
        expr = f"{int(clock[2])} {int(clock[1])} * * *" if clock else self.deadline
        if not clock and len(self.deadline.split()) not in (5, 6):
            raise _Invalid(
                f"deadline={self.deadline!r} is neither HH:MM nor a cron expression",
                'write deadline="06:00" (every day) or a cron expression like "0 6 * * 1-5"',
            )
        from legato.definitions.schedules import Cron  # cron maths load on first use

        try:
            cron = Cron(expr, self.timezone)
        except DefinitionError as exc:
            problem = exc.message.split(": ", 1)[-1]  # without the Cron's own label
            raise _Invalid(f"deadline {self.deadline!r}: {problem}", exc.hint or "") from None
        object.__setattr__(self, "cron", cron)

    def check(self, what: str) -> None:
        """Raise ``DefinitionError`` naming ``what`` (the asset and where) if invalid."""
        if self.problem is not None:
            problem, fix = self.problem
            raise DefinitionError(f"{what}: freshness {problem}", obj=what, hint=fix)

    def describe(self) -> dict[str, Any]:
        """The policy as plain data, for the snapshot (rebuilt by :meth:`from_description`)."""
        self.check("Freshness")
        if self.lag_seconds is not None:
            return {"max_lag_seconds": self.lag_seconds, "summary": self.summary()}
        return {"deadline": self.deadline, "timezone": self.timezone, "summary": self.summary()}

    @classmethod
    def from_description(cls, data: Mapping[str, Any]) -> Freshness:
        if data.get("max_lag_seconds") is not None:
            return cls(max_lag=float(data["max_lag_seconds"]))
        return cls(deadline=str(data.get("deadline")), timezone=str(data.get("timezone", "UTC")))

    def summary(self) -> str:
        if self.lag_seconds is not None:
            return f"at most {format_duration(self.lag_seconds)} old"
        return f"by {self.deadline} ({self.timezone})"

    def last_deadline(self, now: datetime) -> datetime | None:
        """The latest deadline at or before ``now`` (deadline policies only)."""
        assert self.cron is not None
        return self.cron.previous_fire(now)

    def next_deadline(self, now: datetime) -> datetime:
        assert self.cron is not None
        return self.cron.next_fire(now)


class _Invalid(Exception):
    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def check_freshness(value: Any, what: str) -> Freshness | None:
    """``freshness=`` of a decorator: None, or a valid ``Freshness`` (else an error naming
    ``what``)."""
    if value is None:
        return None
    if not isinstance(value, Freshness):
        raise DefinitionError(
            f"{what}: freshness={value!r} is not a Freshness policy",
            obj=what,
            hint='write freshness=lg.Freshness(max_lag="2h") or lg.Freshness(deadline="06:00")',
        )
    value.check(what)
    return value
