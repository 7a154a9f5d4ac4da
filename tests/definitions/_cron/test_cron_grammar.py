"""The one cron grammar: what it accepts, its canonical form, and its messages with fixes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.definitions._cron.days import month_days
from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.grammar import parse_fields
from legato.definitions._cron.problem import Problem


@pytest.mark.parametrize(
    ("expr", "canonical"),
    [
        ("0 0 * * *", "0 0 * * *"),
        ("@daily", "0 0 * * *"),
        ("@WEEKLY", "0 0 * * 0"),
        ("*/20 30 6 * * *", "0,20,40 30 6 * * *"),  # six fields: seconds first
        ("0 30 6 * * *", "30 6 * * *"),  # seconds 0: the five-field form
        ("0 9 * * MON-fri", "0 9 * * 1,2,3,4,5"),
        ("0 0 * JAN,jul *", "0 0 * 1,7 *"),
        ("0 0 * * 7", "0 0 * * 0"),  # 7 is Sunday
        ("0 0 * * 5-7", "0 0 * * 0,5,6"),
        ("0 0 * * 0-7", "0 0 * * *"),
        ("0 0 ? * 1", "0 0 * * 1"),
        ("0 22-2 * * *", "0 0,1,2,22,23 * * *"),  # a range that wraps round
        ("0 0 * * fri-mon", "0 0 * * 0,1,5,6"),
        ("50-10/15 * * * *", "5,50 * * * *"),  # the step carries across the wrap
        ("0 5-5 * * *", "0 5 * * *"),  # an equal range is its one value
        ("5/20 * * * *", "5,25,45 * * * *"),
        ("0 0 L * *", "0 0 L * *"),
        ("0 0 1,l * *", "0 0 1,L * *"),
        ("0 0 15-L * *", "0 0 15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31 * *"),
        ("0 0 15W * *", "0 0 15W * *"),
        ("0 0 W1 * *", "0 0 1W * *"),
        ("0 0 * * FRI#3", "0 0 * * 5#3"),
        ("0 0 * * mon-wed#1", "0 0 * * 1#1,2#1,3#1"),
        ("0 0 * * L5", "0 0 * * L5"),
        ("0 0 * * l7", "0 0 * * L0"),
        ("0 0 1-31 * 1", "0 0 1-31 * 1"),  # restricted beside a restricted weekday: either-or
        ("0 0 1-31 * *", "0 0 * * *"),
    ],
)
def test_accepted_expressions_and_their_canonical_form(expr: str, canonical: str) -> None:
    parsed = CronExpr.parse(expr)
    assert str(parsed) == canonical
    assert _same_times(CronExpr.parse(canonical), parsed)


def _same_times(a: CronExpr, b: CronExpr) -> bool:
    """Whether two expressions name the same wall times: the same times of day, and the same days
    in every month shape (which month, how long, the weekday of its 1st)."""
    shapes = [(m, n, w) for m in range(1, 13) for n in (28, 29, 30, 31) for w in range(7)]
    return a.offsets == b.offsets and all(
        month_days(a.fields.day, *s) == month_days(b.fields.day, *s) for s in shapes
    )


def test_both_day_fields_restricted_match_either_and_a_star_leaves_the_other_alone() -> None:
    either = parse_fields("0 0 13 * 5").day
    assert either.days_restricted and either.weekdays_restricted
    only_weekday = parse_fields("0 0 ? * 5").day
    assert not only_weekday.days_restricted and only_weekday.weekdays_restricted


@pytest.mark.parametrize(
    ("expr", "problem", "fix"),
    [
        (42, "expression must be a string, got 42", "e.g. '0 6 * * *'"),
        ("@daly", "'@daly' is not a known alias", "use one of @yearly, @annually, @monthly"),
        ("* * * *", "has 4 fields; 5 or 6 are expected", "or 6 with seconds first"),
        ("0 0 0 * * * *", "has 7 fields; 5 or 6 are expected", "5 fields 'minute hour"),
        ("61 * * * *", "minute field '61' is out of range", "use 0-59 in the minute field"),
        ("0 24 * * *", "hour field '24' is out of range", "use 0-23 in the hour field"),
        ("0 0 0 * *", "day-of-month field '0' is out of range", "1-31, L (last day) or 15W"),
        ("0 0 32W * *", "day-of-month field '32W' is out of range", "in the day-of-month field"),
        ("0 0 * 13 *", "month field '13' is out of range", "use 1-12 or JAN-DEC"),
        ("0 0 * * 8", "day-of-week field '8' is out of range", "0-7 (0 and 7 are Sunday)"),
        ("0 0 2 * * 30", "day-of-week field '30' is out of range", "starts with seconds"),
        ("x * * * *", "minute field 'x' is not valid cron syntax: 'x' is not a number", "0-59"),
        ("0 0 * foo *", "'foo' is not a number or a name", "use 1-12 or JAN-DEC"),
        ("-5 * * * *", "minute field '-5' is not valid cron syntax: a value is missing", "0-59"),
        ("1-2-3 * * * *", "minute field '1-2-3' is not valid cron syntax", "0-59"),
        ("\u00b2 * * * *", "'\u00b2' is not a number", "0-59"),  # a digit, but not 0-9
        ("*/x * * * *", "minute field '*/x' is not valid cron syntax: step 'x'", "0-59"),
        ("*/0 * * * *", "minute field '*/0' has a step of 0", "use a step of 1 or more"),
        ("0 ? * * *", "'?' is only for the day fields", "use 0-23 in the hour field"),
        ("0 0 L-3 * *", "day-of-month field 'L-3' is not valid cron syntax", "L (last day)"),
        ("0 0 * * 5L", "write 'L5', not '5L'", "L5 (last Friday)"),
        ("0 0 * * 5#6", "asks for week '6' of the month, not 1-5", "5#3 (third Friday)"),
        ("R * * * *", "uses a random or hashed value (R or H)", "write the value you want"),
        ("H/15 * * * *", "random or hashed value", "e.g. '17' or '*/15'"),
        ("0 0 31 2 *", "expression '0 0 31 2 *' never fires", "there is no 31 February"),
        ("0 0 31 4,6,9,11 *", "never fires: no date matches it", "31 April"),
    ],
)
def test_refused_expressions_say_what_is_wrong_and_the_fix(
    expr: object, problem: str, fix: str
) -> None:
    with pytest.raises(Problem) as info:
        CronExpr.parse(expr)
    assert problem in info.value.problem
    assert fix in info.value.fix


def test_29_february_and_a_fifth_friday_in_february_are_rare_but_fire() -> None:
    assert CronExpr.parse("0 0 29 2 *").next_ge(0) // 86_400 == 365 + 365 + 31 + 28  # 1972
    fifth = CronExpr.parse("0 0 * 2 5#5")  # 1980, 2008, 2036: every 28 years
    assert [fifth.nth_ge(0, n) // 86_400 for n in range(3)] == [3711, 13938, 24165]


_VALUES = {0: (0, 59), 1: (0, 59), 2: (0, 23), 3: (1, 31), 4: (1, 12), 5: (0, 7)}


@st.composite
def _field(draw: st.DrawFn, index: int) -> str:
    low, high = _VALUES[index]
    number = st.integers(low, high)
    item = st.one_of(
        st.just("*"),
        number.map(str),
        st.tuples(number, number).map(lambda ab: f"{ab[0]}-{ab[1]}"),
        st.tuples(number, st.integers(1, 20)).map(lambda vs: f"{vs[0]}/{vs[1]}"),
        st.integers(1, 20).map(lambda s: f"*/{s}"),
        *([st.just("L"), st.integers(1, 31).map(lambda d: f"{d}W")] if index == 3 else []),
        *(
            [
                st.tuples(st.integers(0, 7), st.integers(1, 5)).map(lambda v: f"{v[0]}#{v[1]}"),
                st.integers(0, 7).map(lambda d: f"L{d}"),
            ]
            if index == 5
            else []
        ),
    )
    return ",".join(draw(st.lists(item, min_size=1, max_size=3)))


@given(fields=st.tuples(*(_field(i) for i in range(6))), six=st.booleans())
@settings(max_examples=50, deadline=None)
def test_the_canonical_form_parses_back_to_the_same_fields(
    fields: tuple[str, ...], six: bool
) -> None:
    expr = " ".join(fields if six else fields[1:])
    try:
        parsed = CronExpr.parse(expr)
    except Problem as problem:
        assert "never fires" in problem.problem  # every generated item is valid syntax
        return
    canonical = CronExpr.parse(str(parsed))
    assert str(canonical) == str(parsed)
    assert _same_times(canonical, parsed)
