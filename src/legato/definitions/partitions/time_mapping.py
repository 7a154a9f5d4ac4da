"""Time-window mappings: a downstream window reads the upstream windows it overlaps, moved by
an ``offset`` and widened by a ``lookback`` (TimeWindow), every finer window inside it (RollUp), or
the coarser window containing it (FanOut). Windows are mapped by arithmetic on fire instants."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from legato.definitions.partitions.mapping import Key, Lookup, PartitionMapping, Space
from legato.errors import PartitionError


@dataclass(frozen=True)
class _Overlap(PartitionMapping):
    """Time windows by overlap, moved by ``offset`` upstream windows and widened back by
    ``lookback`` more: the arithmetic shared by TimeWindow, RollUp and FanOut."""

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        ups, downs = self._time(up, "upstream"), self._time(down, "downstream")
        offset, lookback = self._shape
        start = downs.instant_of(self._key(downs, key, "downstream", now, dyn))
        assert start is not None  # validated
        end = downs.timeline.next_ge(start + 1)
        first, last = ups.timeline.prev_le(start), ups.timeline.prev_le(end - 1)
        return ups.keys_starting(
            ups.shift(first, offset - lookback), ups.shift(last, offset) + 1, now
        )

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        ups, downs = self._time(up, "upstream"), self._time(down, "downstream")
        offset, lookback = self._shape
        start = ups.instant_of(self._key(ups, key, "upstream", now, dyn))
        assert start is not None  # validated
        # the downstream windows reading this one overlap upstream windows -offset .. +lookback
        reach_lo, reach_hi = ups.shift(start, -offset), ups.shift(start, lookback + 1 - offset)
        return downs.keys_starting(downs.timeline.prev_le(reach_lo), reach_hi, now)

    @property
    def _shape(self) -> tuple[int, int]:
        return getattr(self, "offset", 0), getattr(self, "lookback", 0)

    def check(self, up_space: Space, down_space: Space) -> None:
        up, down = self._time(up_space, "upstream"), self._time(down_space, "downstream")
        fine, coarse = (up, down) if isinstance(self, RollUp) else (down, up)
        if isinstance(self, RollUp | FanOut) and not fine.fits_in(coarse):
            raise PartitionError(
                f"{type(self).__name__}(): the windows of {fine.summary()} do not fit inside "
                f"those of {coarse.summary()}",
                obj=type(self).__name__,
                hint="use TimeWindow() to read every overlapping upstream window",
            )


def _check_int(owner: str, name: str, value: object, minimum: int | None) -> None:
    low = "an int" if minimum is None else f"an int >= {minimum}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
    ):
        raise PartitionError(
            f"{owner}({name}={value!r}) must be {low}",
            obj=repr(value),
            hint=f"e.g. {owner}({name}=1)",
        )


@dataclass(frozen=True)
class TimeWindow(_Overlap):
    """Each downstream window reads the upstream windows it overlaps, moved ``offset`` upstream
    windows later (negative: earlier), plus ``lookback`` earlier ones.

    ``TimeWindow()`` is the same window; ``TimeWindow(offset=-1)`` the previous one;
    ``TimeWindow(lookback=6)`` the last 7 days including today; ``TimeWindow(offset=-1,
    lookback=6)`` the previous 7 days. Windows before the upstream's first key are left out.
    """

    offset: int = 0
    lookback: int = 0

    def __post_init__(self) -> None:
        _check_int("TimeWindow", "offset", self.offset, None)
        _check_int("TimeWindow", "lookback", self.lookback, 0)


@dataclass(frozen=True)
class RollUp(_Overlap):
    """A coarse downstream window reads every fine upstream window inside it (days -> month).

    ``min_count``: the downstream may run once that many of them are materialized (None: all).
    """

    min_count: int | None = None

    def __post_init__(self) -> None:
        if self.min_count is not None:
            _check_int("RollUp", "min_count", self.min_count, 1)

    def is_ready(self, required: Sequence[str], materialized: Collection[str]) -> bool:
        need = len(required) if self.min_count is None else min(self.min_count, len(required))
        return sum(1 for key in required if key in materialized) >= need


@dataclass(frozen=True)
class FanOut(_Overlap):
    """Each fine downstream window reads the coarse upstream window containing it (month -> days);
    the inverse of :class:`RollUp`."""
