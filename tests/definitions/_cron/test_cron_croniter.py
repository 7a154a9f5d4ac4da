"""The cron engine agrees with croniter on naive wall times, wherever croniter's grammar and ours
mean the same thing.

croniter is no runtime dependency of Legato any more; it stays a test dependency as an independent
implementation to cross-check against. The expressions generated here avoid the few places where
the two differ on purpose (each documented in ``definitions/_cron/grammar.py`` and pinned by a
test below): croniter reads an equal range ``5-5`` as the whole field, steps a wrapping range off
by one, accepts random values (``R``), treats a full day field written with ``*`` as no
restriction, fires on the 1st for a day field of 31 items counting ``L`` (``2-31,L``), and
intersects ``#``, ``L5`` and ``W`` with a restricted other day field where every other day item
follows the either-or rule.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import legato
from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.problem import Problem
from legato.definitions._cron.zones import to_instant

_NAMES = {
    4: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    5: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_RANGES = {0: (0, 59), 1: (0, 59), 2: (0, 23), 3: (1, 31), 4: (1, 12), 5: (0, 7)}


@st.composite
def plain_item(draw: st.DrawFn, index: int) -> str:
    """One item both grammars read alike: a value, an increasing range, a step, a plain wrap."""
    low, high = _RANGES[index]
    top = 6 if index == 5 else high  # a range may end on 7 (Sunday); it never starts there

    def value(v: int) -> str:
        names = _NAMES.get(index)
        if names and v - (index == 4) < len(names) and draw(st.booleans()):
            return names[v - (index == 4)]
        return str(v)

    kind = draw(st.sampled_from(["value", "range", "step", "star-step", "value-step", "wrap"]))
    a = draw(st.integers(low, top))
    if kind == "value":
        return value(a)
    if kind == "star-step":
        return f"*/{draw(st.integers(1, high))}"
    if kind == "value-step":
        return f"{a}/{draw(st.integers(1, high))}"
    if kind == "wrap":
        b = draw(st.integers(low, top))
        assume(b < a)
        return f"{value(a)}-{value(b)}"
    b = draw(st.integers(low, high))
    assume(a < b)
    step = f"/{draw(st.integers(1, high))}" if kind == "step" else ""
    return f"{value(a)}-{value(b)}{step}"


def plain_field(index: int) -> st.SearchStrategy[str]:
    items = st.lists(plain_item(index), min_size=1, max_size=3).map(",".join)
    return st.one_of(st.just("*"), items) if index in (0, 1, 2, 4) else items


@st.composite
def expressions(draw: st.DrawFn) -> str:
    second = draw(st.one_of(st.none(), plain_field(0)))
    minute, hour, month = draw(plain_field(1)), draw(plain_field(2)), draw(plain_field(4))
    star = st.sampled_from(["*", "?"])
    special = draw(st.sampled_from(["none", "last-day", "nearest", "nth"]))
    if special == "nearest":  # W stands alone, beside an unrestricted day-of-week
        dom, dow = f"{draw(st.integers(1, 31))}W", draw(star)
    elif special == "nth":  # '#' and L5 do not mix with plain weekdays, beside an open dom
        nth = st.one_of(
            st.tuples(st.integers(0, 7), st.integers(1, 5)).map(lambda v: f"{v[0]}#{v[1]}"),
            st.integers(0, 7).map(lambda d: f"L{d}"),
        )
        dom, dow = draw(star), ",".join(draw(st.lists(nth, min_size=1, max_size=2)))
    else:
        days = plain_field(3)
        if special == "last-day":
            days = st.one_of(st.just("L"), days.map(lambda d: f"{d},L"))
        dom = draw(st.one_of(star, days))
        dow = draw(st.one_of(star, plain_field(5)))
    fields = [minute, hour, dom, month, dow]
    return " ".join([second, *fields] if second is not None else fields)


def _parse(expr: str) -> CronExpr:
    try:
        cron = CronExpr.parse(expr)
    except Problem as problem:
        assume("never fires" not in problem.problem)
        raise
    day = cron.fields.day
    if day.days_restricted and day.weekdays_restricted:  # croniter: a full field written with *
        assume(not day.all_days_of_month and not day.all_weekdays)  # is no restriction
    # croniter: a day field of 31 items counting L (2-31,L) fires on the 1st too
    assume(len(day.days) + day.last_day < 31 or day.all_days_of_month)
    return cron


def _wall(value: datetime) -> int:
    return to_instant(value.replace(tzinfo=UTC))


@given(
    expr=expressions(),
    start=st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1)),
)
@settings(max_examples=80, deadline=None)
def test_next_and_previous_fire_times_agree_with_croniter(expr: str, start: datetime) -> None:
    cron = _parse(expr)
    six = len(expr.split()) == 6
    start = start.replace(microsecond=0) if six else start.replace(second=0, microsecond=0)
    theirs = croniter(expr, start, second_at_beginning=six, max_years_between_matches=100)
    expected = [_wall(theirs.get_next(datetime)) for _ in range(12)]

    lo = _wall(start) + 1
    walls = cron.walls(lo, None)
    assert [next(walls) for _ in range(12)] == expected
    assert cron.count(lo, expected[-1] + 1) == 12
    assert [cron.nth_ge(lo, n) for n in (0, 5, 11)] == [expected[0], expected[5], expected[11]]

    back = croniter(expr, start, second_at_beginning=six, max_years_between_matches=100)
    previous = [_wall(back.get_prev(datetime)) for _ in range(4)]
    mine, hi = [], _wall(start)
    for _ in range(4):
        hi = cron.prev_lt(hi)
        mine.append(hi)
    assert mine == previous


@pytest.mark.parametrize(
    ("expr", "ours", "croniter_reads"),
    [
        ("0 5-5 * * *", "0 5 * * *", "an equal range as the whole field: every hour"),
        ("50-10/15 * * * *", "5,50 * * * *", "the wrapped step off by one: minutes 6 and 50"),
        ("0 0 */2 * 0-6", "0 0 */2 * 0-6", "a full weekday field as '*': odd days only"),
        ("0 0 1 * 5#3", "0 0 1 * 5#3", "the 1st AND the third Friday: never"),
        ("5 * 2-31,L * *", "5 * 2-31 * *", "31 items counting L: the 1st too"),
    ],
)
def test_where_croniter_differs_the_engine_follows_classic_cron(
    expr: str, ours: str, croniter_reads: str
) -> None:
    cron = CronExpr.parse(expr)
    assert _same_lattice(cron, CronExpr.parse(ours)), croniter_reads
    start = datetime(2024, 1, 1)
    walls = cron.walls(_wall(start), None)
    if expr == "0 0 */2 * 0-6":  # either rule: every day, since every weekday matches
        assert [next(walls) - _wall(start) for _ in range(3)] == [0, 86_400, 2 * 86_400]
    if expr == "5 * 2-31,L * *":  # never the 1st
        assert next(walls) == _wall(datetime(2024, 1, 2, 0, 5))
        assert croniter(expr, start).get_next(datetime) == datetime(2024, 1, 1, 0, 5)
    if expr == "0 0 1 * 5#3":  # either rule: the 1st (a Monday) or the 19th (third Friday)
        assert [next(walls) for _ in range(2)] == [_wall(start), _wall(datetime(2024, 1, 19))]


def _same_lattice(a: CronExpr, b: CronExpr) -> bool:
    lo = _wall(datetime(2024, 1, 1))
    return a.offsets == b.offsets and a.count(lo, lo + 800 * 86_400) == b.count(
        lo, lo + 800 * 86_400
    )


def test_random_values_are_refused_where_croniter_draws_one() -> None:
    assert croniter.is_valid("R * * * *")
    with pytest.raises(Problem, match="random or hashed"):
        CronExpr.parse("R * * * *")


def test_no_module_of_legato_imports_croniter() -> None:
    root = Path(legato.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "croniter" for n in names), path


def test_the_cross_check_compares_real_fire_times() -> None:
    cron = CronExpr.parse("0 0 L * *")
    start = datetime(2024, 2, 1)
    theirs = croniter("0 0 L * *", start).get_next(datetime)
    assert theirs == datetime(2024, 2, 29)
    assert cron.next_ge(_wall(start)) == _wall(theirs)
    assert _wall(start + timedelta(days=28)) == _wall(theirs)
