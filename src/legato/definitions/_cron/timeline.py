"""The real instants a cron expression names in a time zone, under the DST policies.

Instants are integer seconds since the Unix epoch (UTC). Inside a segment of constant UTC offset
``o`` (see ``zones``) a wall time ``w`` fires at ``w - o``, so counting and indexing fire instants
reduce to counting the expression's wall-time lattice (see ``expression``). At a transition:

* **gap** (clocks jump forward; wall times that never happen) follows ``on_gap``: ``"next"``
  fires once at the first instant after the gap if the expression names any wall time inside it
  (several such times make one fire; none is added when the end of the gap is a fire time
  itself); ``"skip"`` drops them.
* **repeat** (clocks fall back; wall times that happen twice) follows ``on_repeat``: ``"first"``
  keeps the first pass, ``"last"`` the second, ``"both"`` both.

``Cron`` schedules and time-window partitions both read their instants here; they differ only in
the policies they pass (``schedules.py`` and ``partitions/time.py`` document theirs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal
from zoneinfo import ZoneInfo

from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.zones import Segment, zone_segment

_KEPT_SEGMENTS = 1024  # a timeline remembers this many segments (about 500 years of DST)

GapPolicy = Literal["skip", "next"]
RepeatPolicy = Literal["first", "last", "both"]
GAP_POLICIES: tuple[GapPolicy, ...] = ("skip", "next")
REPEAT_POLICIES: tuple[RepeatPolicy, ...] = ("first", "last", "both")


def default_policies(cron: CronExpr) -> tuple[GapPolicy, RepeatPolicy]:
    """A cron that fires every hour (hour field ``*``) follows elapsed time: every instant whose
    wall time matches, so a repeated hour fires twice and a missing hour not at all. A cron with
    fixed hours fires once per matching day."""
    return ("skip", "both") if cron.every_hour else ("next", "first")


class Timeline:
    """The fire instants of ``cron`` in ``zone``: next, previous, count, n-th, iterate."""

    def __init__(
        self, cron: CronExpr, zone: ZoneInfo, on_gap: GapPolicy, on_repeat: RepeatPolicy
    ) -> None:
        self.cron = cron
        self.zone = zone
        self.on_gap = on_gap
        self.on_repeat = on_repeat
        self._last: Segment | None = None
        self._starting: dict[int, Segment] = {}  # segments by start: walks go from one to the next

    def segment(self, t: int) -> Segment:
        """The segment around instant ``t``."""
        seg = self._last  # calls cluster: most fall in the segment of the call before
        if (
            seg is not None
            and (seg.start is None or seg.start <= t)
            and (seg.end is None or t < seg.end)
        ):
            return seg
        seg = self._starting.get(t) or zone_segment(self.zone, t)
        if seg.start is not None and len(self._starting) < _KEPT_SEGMENTS:
            self._starting[seg.start] = seg
        self._last = seg
        return seg

    def _walls(self, seg: Segment, t: int, stop: int | None) -> tuple[int, int | None]:
        """The wall times [lo, hi) that fire at instants in [t, stop) of the segment."""
        lo, hi = t + seg.offset, None if stop is None else stop + seg.offset
        if seg.start is not None and seg.before is not None:
            first_pass_only = seg.before > seg.offset and self.on_repeat == "first"
            lo = max(lo, seg.start + (seg.before if first_pass_only else seg.offset))
        if seg.end is not None and seg.after is not None:
            second_pass_only = seg.after < seg.offset and self.on_repeat == "last"
            ceiling = seg.end + (seg.after if second_pass_only else seg.offset)
            hi = ceiling if hi is None else min(hi, ceiling)
        return lo, hi

    def _gap_fire(self, seg: Segment, a: int) -> int | None:
        """The start of ``seg`` if wall times in the gap before it fire there and it is >= a."""
        if (
            seg.start is None
            or seg.before is None
            or seg.start < a
            or seg.before >= seg.offset
            or self.on_gap != "next"
        ):
            return None
        first, after = seg.start + seg.before, seg.start + seg.offset
        if self.cron.count(first, after) > 0 and self.cron.count(after, after + 1) == 0:
            return seg.start
        return None

    def count(self, a: int, b: int) -> int:
        """Fire instants in [a, b)."""
        total, t = 0, a
        while t < b:
            seg = self.segment(t)
            stop = b if seg.end is None else min(seg.end, b)
            total += self._gap_fire(seg, a) is not None
            lo, hi = self._walls(seg, t, stop)
            assert hi is not None  # stop is set
            total += self.cron.count(lo, hi)
            t = stop
        return total

    def nth_ge(self, a: int, n: int) -> int:
        """The n-th (0-based) fire instant at or after ``a``."""
        t = a
        while True:
            seg = self.segment(t)
            gap = self._gap_fire(seg, a)
            if gap is not None:
                if n == 0:
                    return gap
                n -= 1
            lo, hi = self._walls(seg, t, seg.end)
            if seg.end is not None and hi is not None:
                here = self.cron.count(lo, hi)
                if n >= here:
                    n -= here
                    t = seg.end
                    continue
            return self.cron.nth_ge(lo, n) - seg.offset

    def next_ge(self, a: int) -> int:
        return self.nth_ge(a, 0)

    def prev_le(self, t: int) -> int:
        """The last fire instant at or before ``t``."""
        while True:
            seg = self.segment(t)
            lo, hi = self._walls(seg, seg.start if seg.start is not None else t, t + 1)
            assert hi is not None
            wall = self.cron.prev_lt(hi)
            if seg.start is None or wall >= lo:
                return wall - seg.offset
            gap = self._gap_fire(seg, seg.start)
            if gap is not None:
                return gap
            t = seg.start - 1

    def iterate(self, a: int, b: int | None = None) -> Iterator[int]:
        """Fire instants from ``a`` (included) to ``b`` (excluded; None: forever), in order."""
        t = a
        while b is None or t < b:
            seg = self.segment(t)
            stop = seg.end if b is None else (b if seg.end is None else min(seg.end, b))
            gap = self._gap_fire(seg, a)
            if gap is not None:
                yield gap
            lo, hi = self._walls(seg, t, stop)
            yield from self.cron.walls(lo, hi, seg.offset)
            if stop is None:
                return
            t = stop
