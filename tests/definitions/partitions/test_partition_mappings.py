"""Partition mappings: unit behaviour, inverse laws (hypothesis) and inference."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.definitions.partitions import (
    AllPartitions,
    DailyPartitions,
    Dimension,
    DynamicPartitions,
    FanOut,
    HourlyPartitions,
    Identity,
    MonthlyPartitions,
    PartitionMapping,
    PartitionSpace,
    ProductPartitions,
    RollUp,
    StaticMap,
    StaticPartitions,
    TimeWindow,
    TimeWindowPartitions,
    Unpartitioned,
    WeeklyPartitions,
    YearlyPartitions,
    infer_mapping,
)
from legato.errors import PartitionError

NOW = datetime(2019, 6, 1, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo"]
Lookup = dict[str, list[str]]


def test_identity() -> None:
    a, b = StaticPartitions(["x", "y"]), StaticPartitions(["y", "z"])
    assert Identity().upstream_keys("y", a, b, now=NOW) == ["y"]
    assert Identity().upstream_keys("z", a, b, now=NOW) == []  # not upstream: nothing to read
    assert Identity().downstream_keys("x", a, b, now=NOW) == []
    with pytest.raises(PartitionError, match="not a partition key"):
        Identity().upstream_keys("x", a, b, now=NOW)
    with pytest.raises(PartitionError, match="got no downstream key"):
        Identity().upstream_keys(None, a, b, now=NOW)
    assert Identity().upstream_keys(None, None, None) == []


def test_time_window_previous_seven_days() -> None:
    days = DailyPartitions("2024-01-01", timezone="Europe/Berlin")
    now = datetime(2024, 4, 1, tzinfo=UTC)
    previous_week = TimeWindow(offset=-1, lookback=6)
    assert previous_week.upstream_keys("2024-01-10", days, days, now=now) == [
        f"2024-01-0{d}" for d in range(3, 10)
    ]
    assert previous_week.upstream_keys("2024-01-03", days, days, now=now) == [
        "2024-01-01",
        "2024-01-02",
    ]  # clipped at the first key
    assert previous_week.upstream_keys("2024-01-01", days, days, now=now) == []
    assert previous_week.downstream_keys("2024-03-25", days, days, now=now) == [
        "2024-03-26",
        "2024-03-27",
        "2024-03-28",
        "2024-03-29",
        "2024-03-30",
        "2024-03-31",
    ]
    assert TimeWindow(offset=1).upstream_keys("2024-03-31", days, days, now=now) == []
    with pytest.raises(PartitionError, match="lookback"):
        TimeWindow(lookback=-1)
    with pytest.raises(PartitionError, match="must be an int"):
        TimeWindow(offset=1.5)  # type: ignore[arg-type]


def test_roll_up_days_to_month_and_fan_out_back() -> None:
    days = DailyPartitions("2024-01-01", timezone="Europe/Berlin")
    months = MonthlyPartitions("2024-01", timezone="Europe/Berlin")
    now = datetime(2024, 4, 2, tzinfo=UTC)
    february = RollUp().upstream_keys("2024-02", days, months, now=now)
    assert february == [f"2024-02-{d:02d}" for d in range(1, 30)]
    assert RollUp().downstream_keys("2024-02-29", days, months, now=now) == ["2024-02"]
    assert FanOut().upstream_keys("2024-03-31", months, days, now=now) == ["2024-03"]
    assert FanOut().downstream_keys("2024-03", months, days, now=now)[-1] == "2024-03-31"
    RollUp().check(days, months)
    FanOut().check(months, days)
    with pytest.raises(PartitionError, match="do not fit inside"):
        RollUp().check(WeeklyPartitions("2024-01-01"), MonthlyPartitions("2024-01"))
    with pytest.raises(PartitionError, match="maps time windows"):
        RollUp().check(StaticPartitions(["a"]), months)


def test_roll_up_of_hours_on_a_dst_day_reads_23_hours() -> None:
    hours = HourlyPartitions("2024-03-01", timezone="Europe/Berlin")
    days = DailyPartitions("2024-03-01", timezone="Europe/Berlin")
    now = datetime(2024, 11, 1, tzinfo=UTC)
    assert len(RollUp().upstream_keys("2024-03-31", hours, days, now=now)) == 23
    assert len(RollUp().upstream_keys("2024-10-27", hours, days, now=now)) == 25
    assert RollUp().downstream_keys("2024-10-27-02:00+01:00", hours, days, now=now) == [
        "2024-10-27"
    ]


def test_roll_up_min_count() -> None:
    required = ["a", "b", "c"]
    assert not RollUp().is_ready(required, {"a", "b"})
    assert RollUp(min_count=2).is_ready(required, {"a", "b"})
    assert RollUp(min_count=5).is_ready(required, {"a", "b", "c"})  # capped at all of them
    assert Identity().is_ready(["a"], {"a"})
    with pytest.raises(PartitionError, match="min_count"):
        RollUp(min_count=0)


def test_dimension_fan_in_and_projection() -> None:
    tenants = DynamicPartitions("tenant")
    days = DailyPartitions("2024-01-01")
    per_tenant = tenants * days
    lookup = {"tenant": ["acme", "globex"]}
    now = datetime(2024, 2, 1, tzinfo=UTC)
    fan_in = Dimension()
    assert fan_in.upstream_keys("2024-01-05", per_tenant, days, now=now, dynamic=lookup) == [
        "tenant=acme,date=2024-01-05",
        "tenant=globex,date=2024-01-05",
    ]
    assert fan_in.downstream_keys(
        "tenant=acme,date=2024-01-05", per_tenant, days, now=now, dynamic=lookup
    ) == ["2024-01-05"]
    projection = Dimension("date")
    assert projection.upstream_keys(
        "tenant=acme,date=2024-01-05", days, per_tenant, now=now, dynamic=lookup
    ) == ["2024-01-05"]
    shifted = Dimension(mappings={"date": TimeWindow(offset=-1)})
    assert shifted.upstream_keys(
        "tenant=acme,date=2024-01-05", per_tenant, per_tenant, now=now, dynamic=lookup
    ) == ["tenant=acme,date=2024-01-04"]
    with pytest.raises(PartitionError, match="no dimension 'region'"):
        Dimension("region").upstream_keys("2024-01-05", per_tenant, days, now=now, dynamic=lookup)
    with pytest.raises(PartitionError, match="share no dimension"):
        Dimension().check(StaticPartitions(["a"], name="x"), days)
    with pytest.raises(PartitionError, match="matches nothing"):
        Dimension(on=())


def test_a_product_depends_on_one_dimension_of_another_product() -> None:
    tenants, regions = DynamicPartitions("tenant"), StaticPartitions(["eu", "us"], name="region")
    days = DailyPartitions("2024-01-01")
    up, down = tenants * regions * days, regions * days
    lookup = {"tenant": ["a", "b", "c"]}
    now = datetime(2024, 1, 3, tzinfo=UTC)
    assert Dimension().upstream_keys(
        "region=us,date=2024-01-02", up, down, now=now, dynamic=lookup
    ) == [f"tenant={t},region=us,date=2024-01-02" for t in "abc"]
    assert Dimension("region").upstream_keys(
        "region=us,date=2024-01-02", up, down, now=now, dynamic=lookup
    ) == [f"tenant={t},region=us,date=2024-01-0{d}" for t in "abc" for d in (1, 2)]


def test_static_map() -> None:
    up = StaticPartitions(["eu", "us", "apac"], name="region")
    down = StaticPartitions(["de", "fr", "us"], name="country")
    mapping = StaticMap({"eu": ["de", "fr"], "us": "us", "apac": ["jp"]})
    assert mapping.downstream_keys("eu", up, down, now=NOW) == ["de", "fr"]
    assert mapping.downstream_keys("apac", up, down, now=NOW) == []  # 'jp' is not downstream
    assert mapping.upstream_keys("fr", up, down, now=NOW) == ["eu"]
    assert json.loads(json.dumps(mapping.describe())) == {
        "kind": "StaticMap",
        "pairs": [["eu", ["de", "fr"]], ["us", ["us"]], ["apac", ["jp"]]],
    }
    with pytest.raises(PartitionError, match="non-empty"):
        StaticMap({})


def test_partitioned_and_unpartitioned() -> None:
    days = DailyPartitions("2024-01-01")
    now = datetime(2024, 1, 4, tzinfo=UTC)
    assert AllPartitions().upstream_keys(None, days, None, now=now) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    assert AllPartitions().downstream_keys("2024-01-02", days, None, now=now) == []
    assert Unpartitioned().upstream_keys("2024-01-02", None, days, now=now) == []
    assert Unpartitioned().downstream_keys(None, None, days, now=now) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    with pytest.raises(PartitionError, match="AllPartitions"):
        Unpartitioned().check(days, days)
    with pytest.raises(PartitionError, match="needs a partitioned upstream"):
        AllPartitions().check(None, days)


def test_describe_is_json() -> None:
    for mapping in (
        Identity(),
        TimeWindow(-1, 6),
        RollUp(min_count=3),
        FanOut(),
        AllPartitions(),
        Unpartitioned(),
        Dimension("date", {"date": TimeWindow(-1)}),
    ):
        described = mapping.describe()
        assert json.loads(json.dumps(described)) == described
        assert described["kind"] == type(mapping).__name__
    assert Dimension("date", {"date": TimeWindow(-1)}) == Dimension(
        ["date"], {"date": TimeWindow(offset=-1)}
    )


# -- inference -------------------------------------------------------------------------------


def test_infer_obvious_mappings() -> None:
    days = DailyPartitions("2024-01-01", timezone="Europe/Berlin")
    months = MonthlyPartitions("2024-01", timezone="Europe/Berlin")
    tenants = DynamicPartitions("tenant")
    assert infer_mapping(days, DailyPartitions("2024-01-01", timezone="Europe/Berlin")) == (
        Identity()
    )
    assert infer_mapping(days, DailyPartitions("2023-01-01", timezone="Europe/Berlin")) == (
        Identity()
    )
    assert infer_mapping(days, months) == RollUp()
    assert infer_mapping(months, days) == FanOut()
    assert infer_mapping(days, WeeklyPartitions("2024-01-01", timezone="Europe/Berlin")) == (
        RollUp()
    )
    assert infer_mapping(months, YearlyPartitions("2024", timezone="Europe/Berlin")) == RollUp()
    assert infer_mapping(tenants * days, days) == Dimension()
    assert infer_mapping(days, tenants * days) == Dimension()
    assert infer_mapping(tenants * days, tenants * months) == Dimension(mappings={"date": RollUp()})
    assert infer_mapping(days, None) == AllPartitions()
    assert infer_mapping(None, days) == Unpartitioned()
    assert infer_mapping(None, None) == Identity()


@pytest.mark.parametrize(
    ("up", "down", "words"),
    [
        (HourlyPartitions("2024-01-01"), DailyPartitions("2024-01-01"), "RollUp()"),
        (
            DailyPartitions("2024-01-01", timezone="UTC"),
            DailyPartitions("2024-01-01", timezone="Asia/Tokyo"),
            "time zones differ",
        ),
        (WeeklyPartitions("2024-01-01"), MonthlyPartitions("2024-01"), "TimeWindow()"),
        (StaticPartitions(["a"]), StaticPartitions(["b"]), "StaticMap"),
        (DynamicPartitions("tenant"), DailyPartitions("2024-01-01"), "no obvious"),
    ],
)
def test_infer_refuses_when_nothing_is_obvious(
    up: PartitionSpace, down: PartitionSpace, words: str
) -> None:
    with pytest.raises(PartitionError) as info:
        infer_mapping(up, down)
    assert words in str(info.value)


# -- laws, for random spaces and keys ----------------------------------------------------------


def _cadence(draw: st.DrawFn, zone: str) -> TimeWindowPartitions:
    kind = draw(st.sampled_from(["hourly", "daily", "weekly", "monthly"]))
    start = draw(st.dates(date(2017, 1, 1), date(2019, 1, 1)))
    days = {"hourly": 40, "daily": 200, "weekly": 400, "monthly": 600}[kind]
    end = start + timedelta(days=draw(st.integers(days // 4, days)))
    make: dict[str, Callable[..., TimeWindowPartitions]] = {
        "hourly": HourlyPartitions,
        "daily": DailyPartitions,
        "weekly": WeeklyPartitions,
        "monthly": MonthlyPartitions,
    }
    return make[kind](start, end=end, timezone=zone)


@st.composite
def time_scenarios(
    draw: st.DrawFn,
) -> tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup]:
    zone = draw(st.sampled_from(ZONES))
    up = _cadence(draw, zone)
    down = _cadence(draw, draw(st.sampled_from([zone, *ZONES])))
    mapping = draw(
        st.sampled_from(
            [TimeWindow(draw(st.integers(-3, 3)), draw(st.integers(0, 4))), RollUp(), FanOut()]
        )
    )
    return mapping, up, down, {}


@st.composite
def product_scenarios(
    draw: st.DrawFn,
) -> tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup]:
    pool: dict[str, PartitionSpace] = {
        "tenant": DynamicPartitions("tenant"),
        "user": DynamicPartitions("user"),
        "region": StaticPartitions(["eu", "us", "apac"], name="region"),
        "date": DailyPartitions("2019-05-20", timezone="Europe/Berlin"),
    }
    names = list(pool)

    def pick() -> PartitionSpace:
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        if "date" not in chosen:
            chosen.append("date")
        picked = [pool[n] for n in names if n in chosen]
        return (
            picked[0]
            if len(picked) == 1
            else ProductPartitions({n: pool[n] for n in names if n in chosen})
        )

    up, down = pick(), pick()
    rule = draw(st.sampled_from([None, TimeWindow(-1, 1), TimeWindow(1)]))
    mapping = Dimension(mappings={"date": rule} if rule else None)
    lookup = {
        "tenant": draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, unique=True)),
        "user": draw(st.lists(st.sampled_from(["x", "y"]), unique=True)),
    }
    return mapping, up, down, lookup


@st.composite
def static_scenarios(
    draw: st.DrawFn,
) -> tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup]:
    letters = st.sampled_from(list("abcdefg"))
    up = StaticPartitions(draw(st.lists(letters, min_size=1, unique=True)), name="up")
    down = StaticPartitions(draw(st.lists(letters, min_size=1, unique=True)), name="down")
    pairs = draw(st.dictionaries(letters, st.lists(letters, min_size=1, unique=True), min_size=1))
    mapping = draw(st.sampled_from([StaticMap(pairs), Identity(), AllPartitions()]))
    return mapping, up, down, {}


def _check_laws(
    scenario: tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup], data: st.DataObject
) -> None:
    mapping, up, down, lookup = scenario
    up_keys, down_keys = up.keys(NOW, lookup), down.keys(NOW, lookup)
    if not up_keys or not down_keys:
        return
    d = down_keys[data.draw(st.integers(0, len(down_keys) - 1))]
    u = up_keys[data.draw(st.integers(0, len(up_keys) - 1))]
    reads = mapping.upstream_keys(d, up, down, now=NOW, dynamic=lookup)
    feeds = mapping.downstream_keys(u, up, down, now=NOW, dynamic=lookup)
    assert all(up.contains(k, NOW, lookup) for k in reads)  # never outside the space
    assert all(down.contains(k, NOW, lookup) for k in feeds)
    assert len(set(reads)) == len(reads) and len(set(feeds)) == len(feeds)
    # the two directions agree exactly: u is read by d  <=>  d reads u
    assert (u in reads) == (d in mapping.downstream_keys(u, up, down, now=NOW, dynamic=lookup))
    for k in data.draw(st.lists(st.sampled_from(reads), max_size=3)) if reads else []:
        assert d in mapping.downstream_keys(k, up, down, now=NOW, dynamic=lookup)
    for k in data.draw(st.lists(st.sampled_from(feeds), max_size=3)) if feeds else []:
        assert u in mapping.upstream_keys(k, up, down, now=NOW, dynamic=lookup)


@given(time_scenarios(), st.data())
@settings(max_examples=120, deadline=None)
def test_time_mappings_are_inverse_and_stay_in_their_spaces(
    scenario: tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup], data: st.DataObject
) -> None:
    _check_laws(scenario, data)


@given(product_scenarios(), st.data())
@settings(max_examples=120, deadline=None)
def test_dimension_mappings_are_inverse_and_stay_in_their_spaces(
    scenario: tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup], data: st.DataObject
) -> None:
    _check_laws(scenario, data)


@given(static_scenarios(), st.data())
@settings(max_examples=80, deadline=None)
def test_static_mappings_are_inverse_and_stay_in_their_spaces(
    scenario: tuple[PartitionMapping, PartitionSpace, PartitionSpace, Lookup], data: st.DataObject
) -> None:
    _check_laws(scenario, data)


@given(
    zone=st.sampled_from(ZONES), start=st.dates(date(2017, 1, 1), date(2018, 6, 1)), data=st.data()
)
@settings(max_examples=60, deadline=None)
def test_identity_and_roll_up_round_trip(zone: str, start: date, data: st.DataObject) -> None:
    days = DailyPartitions(start, timezone=zone)
    months = MonthlyPartitions(start.replace(day=1), timezone=zone, end_offset=1)
    keys = days.keys(NOW)
    day = keys[data.draw(st.integers(0, len(keys) - 1))]
    assert Identity().upstream_keys(day, days, days, now=NOW) == [day]
    assert Identity().downstream_keys(day, days, days, now=NOW) == [day]
    (month,) = RollUp().downstream_keys(day, days, months, now=NOW)
    inside = RollUp().upstream_keys(month, days, months, now=NOW)
    assert day in inside
    window = months.window(month)
    first, last = days.window(inside[0]), days.window(inside[-1])
    assert first.start.astimezone(UTC) >= window.start.astimezone(UTC)
    assert last.end.astimezone(UTC) <= window.end.astimezone(UTC)
    if keys[0] not in inside and keys[-1] not in inside:  # not clipped: the days tile the month
        assert first.start.astimezone(UTC) == window.start.astimezone(UTC)
        assert len(inside) == (window.end.date() - window.start.date()).days
    assert FanOut().upstream_keys(day, months, days, now=NOW) == [month]
