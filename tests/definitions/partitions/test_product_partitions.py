"""Static, dynamic and product partition spaces."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import overload

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.definitions._cron.timeline import Timeline
from legato.definitions.partitions import (
    DailyPartitions,
    DynamicPartitions,
    HourlyPartitions,
    MonthlyPartitions,
    PartitionSpace,
    ProductPartitions,
    StaticPartitions,
)
from legato.errors import PartitionError

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_static_keys_keep_order_and_refuse_duplicates() -> None:
    space = StaticPartitions(["eu", "us", "apac"], name="region")
    assert list(space.keys()) == ["eu", "us", "apac"]
    assert space.count() == 3 and space.index_of("us") == 1
    assert "eu" in space and "mars" not in space and 3 not in space
    assert list(space.keys_between("us", "apac")) == ["us", "apac"]
    with pytest.raises(PartitionError, match="listed twice"):
        StaticPartitions(["a", "b", "a"])
    with pytest.raises(PartitionError, match="one string"):
        StaticPartitions("abc")
    with pytest.raises(PartitionError, match="at least one key"):
        StaticPartitions([])
    with pytest.raises(PartitionError, match="path separator"):
        StaticPartitions(["ok", "../etc"])
    with pytest.raises(PartitionError, match="valid keys are 'eu', 'us', 'apac'"):
        space.validate_key("mars")
    with pytest.raises(PartitionError, match="reversed"):
        space.keys_between("apac", "eu")


def test_dynamic_keys_come_from_the_caller() -> None:
    tenants = DynamicPartitions("tenants")
    lookup = {"tenants": ["acme", "globex"]}
    assert list(tenants.keys(dynamic=lookup)) == ["acme", "globex"]
    assert tenants.contains("acme", dynamic=lambda name: ["acme"] if name == "tenants" else [])
    assert tenants.count(dynamic={}) == 0  # a set nobody added to yet is empty
    with pytest.raises(PartitionError, match="pass dynamic="):
        tenants.keys()
    with pytest.raises(PartitionError, match="add the key to it first"):
        tenants.validate_key("initech", dynamic=lookup)
    with pytest.raises(PartitionError, match="dynamic partitions name"):
        DynamicPartitions("no spaces please")
    with pytest.raises(PartitionError, match="path separator"):
        tenants.validate_key("../x", dynamic=lookup)
    assert tenants.check_new_key("initech") == "initech"
    with pytest.raises(PartitionError):
        tenants.check_new_key("../etc")
    assert tenants.describe() == {"kind": "dynamic", "name": "tenants"}


def test_products_of_any_number_of_dimensions() -> None:
    tenants, users = DynamicPartitions("tenant"), DynamicPartitions("user")
    regions = StaticPartitions(["eu", "us"], name="region")
    daily = DailyPartitions("2024-12-30")
    space = tenants * regions * users * daily
    assert space.dimension_names == ("tenant", "region", "user", "date")
    assert space == ProductPartitions(
        {"tenant": tenants, "region": regions, "user": users, "date": daily}
    )
    lookup = {"tenant": ["a", "b"], "user": ["x", "y", "z"]}
    keys = space.keys(NOW, lookup)
    expected = [
        f"tenant={t},region={r},user={u},date={d}"
        for t, r, u, d in itertools.product(
            ["a", "b"], ["eu", "us"], ["x", "y", "z"], ["2024-12-30", "2024-12-31"]
        )
    ]
    assert list(keys) == expected and len(keys) == space.count(NOW, lookup) == 24
    for i, key in enumerate(expected):
        assert keys[i] == key and keys.index(key) == i and key in keys
        assert space.index_of(key, NOW, lookup) == i and space.contains(key, NOW, lookup)
    assert keys[-1] == expected[-1] and keys[2:4] == expected[2:4]
    assert space.key({"date": "2024-12-31", "user": "x"}, tenant="a", region="eu") == (
        "tenant=a,region=eu,user=x,date=2024-12-31"
    )
    assert dict(space.split(expected[5])) == {
        "tenant": "a",
        "region": "eu",
        "user": "z",
        "date": "2024-12-31",
    }
    assert list(space.keys_between(expected[3], expected[6], NOW, lookup)) == expected[3:7]


def test_product_dimension_names_and_duplicates() -> None:
    daily = DailyPartitions("2024-01-01")
    with pytest.raises(PartitionError, match="both named 'date'"):
        daily * HourlyPartitions("2024-01-01")
    with pytest.raises(PartitionError, match="both named 'static'"):
        StaticPartitions(["a"]) * StaticPartitions(["b"])
    named = ProductPartitions({"day": daily, "hour": HourlyPartitions("2024-01-01")})
    assert named.dimension_names == ("day", "hour")
    with pytest.raises(PartitionError, match="at least two"):
        ProductPartitions({"date": daily})
    with pytest.raises(PartitionError, match="itself a product"):
        ProductPartitions({"a": named, "b": StaticPartitions(["x"])})
    with pytest.raises(PartitionError, match="no dimension 'tenant'"):
        named.dimension("tenant")
    assert (named * StaticPartitions(["x"], name="s")).dimension_names == ("day", "hour", "s")


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("tenant=a,date=2024-01-01,region=eu", "out of order"),
        ("tenant=zz,region=eu,date=2024-01-01", "not a key of dimension 'tenant'"),
        ("tenant=a,region=eu,date=2031-01-01", "not a key of dimension 'date'"),
        ("tenant=a,region=eu", "expected"),
        ("tenant=a,b,region=eu,date=2024-01-01", "without '='"),
        ("2024-01-01", "without '='"),
    ],
)
def test_product_key_errors_say_what_is_wrong(key: str, words: str) -> None:
    space = (
        DynamicPartitions("tenant")
        * StaticPartitions(["eu"], name="region")
        * (DailyPartitions("2024-01-01"))
    )
    with pytest.raises(PartitionError, match=words):
        space.validate_key(key, NOW, {"tenant": ["a"]})
    assert not space.contains(key, NOW, {"tenant": ["a"]})


class NoListing(Sequence[str]):
    """A dynamic set that answers len, [] and `in` but fails if anyone lists it."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            raise AssertionError("sliced the set")
        return f"t{index % self.size}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key[1:].isdigit() and int(key[1:]) < self.size

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        assert isinstance(value, str) and value in self
        return int(value[1:])

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("listed the set")


def test_a_million_key_product_is_counted_and_searched_without_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("listed the time windows")

    daily = DailyPartitions("2020-01-01", end="2022-09-27", timezone="Europe/Berlin")
    space = DynamicPartitions("tenant") * daily
    monkeypatch.setattr(Timeline, "iterate", refuse)  # construction samples a few windows
    lookup = {"tenant": NoListing(1000)}
    assert daily.count(NOW) == 1000
    assert space.count(NOW, lookup) == 1_000_000
    keys = space.keys(NOW, lookup)
    assert len(keys) == 1_000_000
    assert space.contains("tenant=t999,date=2022-09-26", NOW, lookup)
    assert not space.contains("tenant=t1000,date=2022-09-26", NOW, lookup)
    assert not space.contains("tenant=t5,date=2022-09-27", NOW, lookup)
    assert "tenant=t500,date=2021-03-28" in keys
    assert space.index_of("tenant=t999,date=2022-09-26", NOW, lookup) == 999_999
    assert keys.index("tenant=t1,date=2020-01-02") == 1001
    assert keys[999_999] == "tenant=t999,date=2022-09-26"
    assert keys[123_456] == "tenant=t123,date=2021-04-01"


def test_static_product_of_a_million_keys_without_listing() -> None:
    space = StaticPartitions([f"s{i}" for i in range(1000)], name="sensor") * MonthlyPartitions(
        "1941-09", end="2025-04"
    )
    assert space.count(NOW) == 1000 * 1000
    assert space.contains("sensor=s42,date=2000-02", NOW)
    assert space.index_of("sensor=s1,date=1941-10", NOW) == 1001


@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4), data=st.data())
@settings(max_examples=50, deadline=None)
def test_product_keys_are_the_cartesian_product(sizes: list[int], data: st.DataObject) -> None:
    dims: dict[str, PartitionSpace] = {}
    lookup: dict[str, list[str]] = {}
    for i, size in enumerate(sizes):
        kind = data.draw(st.sampled_from(["static", "dynamic", "daily"]))
        if kind == "static":
            dims[f"s{i}"] = StaticPartitions([f"k{j}" for j in range(size)], name=f"s{i}")
        elif kind == "dynamic":
            dims[f"s{i}"] = DynamicPartitions(f"set{i}")
            lookup[f"set{i}"] = [f"v{j}" for j in range(size)]
        else:
            dims[f"s{i}"] = (
                DailyPartitions("2024-12-31", end=f"2025-01-0{size}")
                if size > 1
                else DailyPartitions("2024-12-31")
            )
    space = ProductPartitions(dims)
    axes = [list(s.keys(NOW, lookup)) for s in dims.values()]
    expected = [
        ",".join(f"{n}={v}" for n, v in zip(dims, combo, strict=True))
        for combo in itertools.product(*axes)
    ]
    keys = space.keys(NOW, lookup)
    assert list(keys) == expected and len(keys) == space.count(NOW, lookup)
    for i, key in enumerate(expected):
        assert keys[i] == key and space.index_of(key, NOW, lookup) == i


def test_product_describe_is_json_and_stable() -> None:
    space = DynamicPartitions("tenant") * DailyPartitions("2024-01-01")
    described = space.describe()
    assert json.loads(json.dumps(described)) == described
    assert [d["name"] for d in described["dimensions"]] == ["tenant", "date"]
    assert space == DynamicPartitions("tenant") * DailyPartitions("2024-01-01")
    assert space != DailyPartitions("2024-01-01") * DynamicPartitions("tenant")
    assert len({space, DynamicPartitions("tenant") * DailyPartitions("2024-01-01")}) == 1
