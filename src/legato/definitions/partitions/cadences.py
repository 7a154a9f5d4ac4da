"""The usual calendar cadences as time-window partitions: one window per minute, hour, day, week,
month or year, each a ``TimeWindowPartitions`` over the cron its offsets give (``time``)."""

from __future__ import annotations

from datetime import date, datetime

from legato.definitions.partitions.time import TimeWindowPartitions
from legato.errors import PartitionError


def _field(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PartitionError(
            f"{name}={value!r} must be an int from {low} to {high}",
            obj=repr(value),
            hint=f"pass {name}={low}..{high}",
        )
    return value


class MinutelyPartitions(TimeWindowPartitions):
    """One window per minute; keys like ``2024-01-01-13:05``."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str = "%Y-%m-%d-%H:%M",
        end_offset: int = 0,
        name: str = "date",
    ) -> None:
        super().__init__("* * * * *", start, end, timezone, fmt, end_offset, name=name)


class HourlyPartitions(TimeWindowPartitions):
    """One window per hour; keys like ``2024-01-01-13:00`` (repeated hours add the UTC offset)."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str = "%Y-%m-%d-%H:%M",
        end_offset: int = 0,
        minute_offset: int = 0,
        name: str = "date",
    ) -> None:
        cron = f"{_field(minute_offset, 'minute_offset', 0, 59)} * * * *"
        super().__init__(cron, start, end, timezone, fmt, end_offset, name=name)


class DailyPartitions(TimeWindowPartitions):
    """One window per day (23 to 25 hours around DST); keys like ``2024-01-01``."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str = "%Y-%m-%d",
        end_offset: int = 0,
        hour_offset: int = 0,
        minute_offset: int = 0,
        name: str = "date",
    ) -> None:
        cron = (
            f"{_field(minute_offset, 'minute_offset', 0, 59)} "
            f"{_field(hour_offset, 'hour_offset', 0, 23)} * * *"
        )
        super().__init__(cron, start, end, timezone, fmt, end_offset, name=name)


class WeeklyPartitions(TimeWindowPartitions):
    """One window per week, starting on ``day_offset`` (cron numbering: 0 = Sunday, 1 = Monday,
    the default); keys are the first day, like ``2024-01-01``."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str = "%Y-%m-%d",
        end_offset: int = 0,
        day_offset: int = 1,
        hour_offset: int = 0,
        minute_offset: int = 0,
        name: str = "date",
    ) -> None:
        cron = (
            f"{_field(minute_offset, 'minute_offset', 0, 59)} "
            f"{_field(hour_offset, 'hour_offset', 0, 23)} * * "
            f"{_field(day_offset, 'day_offset', 0, 6)}"
        )
        super().__init__(cron, start, end, timezone, fmt, end_offset, name=name)


class MonthlyPartitions(TimeWindowPartitions):
    """One window per month, starting on day ``day_offset`` (1..28); keys like ``2024-01``
    (``2024-01-15`` when the month starts on another day)."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
        day_offset: int = 1,
        hour_offset: int = 0,
        minute_offset: int = 0,
        name: str = "date",
    ) -> None:
        cron = (
            f"{_field(minute_offset, 'minute_offset', 0, 59)} "
            f"{_field(hour_offset, 'hour_offset', 0, 23)} "
            f"{_field(day_offset, 'day_offset', 1, 28)} * *"
        )
        fmt = fmt if fmt is not None else ("%Y-%m" if day_offset == 1 else "%Y-%m-%d")
        super().__init__(cron, start, end, timezone, fmt, end_offset, name=name)


class YearlyPartitions(TimeWindowPartitions):
    """One window per calendar year; keys like ``2024``."""

    def __init__(
        self,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        *,
        timezone: str = "UTC",
        fmt: str = "%Y",
        end_offset: int = 0,
        name: str = "date",
    ) -> None:
        super().__init__("0 0 1 1 *", start, end, timezone, fmt, end_offset, name=name)
