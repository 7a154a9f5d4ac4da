"""The space logic behind the partition routes, on spaces built directly: every matrix cell is a
key of the space (renamed and several other dimensions included), empty spaces give empty pages,
and paging a space of a million keys lists only the page."""

from __future__ import annotations

import pytest

from legato.definitions.partitions import (
    DailyPartitions,
    DynamicPartitions,
    MinutelyPartitions,
    ProductPartitions,
    StaticPartitions,
)
from legato.web.errors import ApiError
from legato.web.partition_view import dynamic_sets_of, key_page, matrix, space_of

DAYS = DailyPartitions("2024-01-01", "2024-01-05", name="date")
SPACE = ProductPartitions(
    {"day": DAYS, "reg": StaticPartitions(["a", "b"], name="region"), "t": DynamicPartitions("t")}
)
DYNAMIC = {"t": ["x", "y"]}


def test_matrix_cells_are_keys_of_the_space_with_the_products_dimension_names():
    grid = matrix(
        SPACE,
        dimension=None,
        columns=2,
        rows=3,
        end=None,
        row_after=None,
        now=None,
        dynamic=DYNAMIC,
    )
    assert grid.column_dimension == "day" and grid.row_dimension == "reg,t"
    assert grid.columns == ["2024-01-03", "2024-01-04"] and grid.next_row_after == "reg=b,t=x"
    assert grid.rows[0] == ("reg=a,t=x", ["day=2024-01-03,reg=a,t=x", "day=2024-01-04,reg=a,t=x"])
    assert all(SPACE.contains(k, dynamic=DYNAMIC) for k in grid.cell_keys())
    flipped = matrix(
        SPACE,
        dimension="t",
        columns=62,
        rows=50,
        end=None,
        row_after=None,
        now=None,
        dynamic=DYNAMIC,
    )
    assert flipped.columns == ["x", "y"] and len(flipped.rows) == 8
    assert all(SPACE.contains(k, dynamic=DYNAMIC) for k in flipped.cell_keys())


def test_an_empty_dynamic_set_gives_empty_pages():
    empty = {"t": []}
    grid = matrix(
        SPACE, dimension=None, columns=5, rows=5, end=None, row_after=None, now=None, dynamic=empty
    )
    assert grid.rows == [] and grid.next_row_after is None
    assert key_page(SPACE.keys(dynamic=empty), after=None, limit=10, newest_first=True) == (
        [],
        None,
    )


def test_paging_a_million_keys_lists_only_the_page():
    minutes = MinutelyPartitions("2022-01-01-00:00", "2024-01-01-00:00")  # ~1.05 million keys
    keys = minutes.keys()
    page, last = key_page(keys, after=None, limit=3, newest_first=True)
    assert page == ["2023-12-31-23:59", "2023-12-31-23:58", "2023-12-31-23:57"]
    page, last = key_page(keys, after=last, limit=2, newest_first=True)
    assert page == ["2023-12-31-23:56", "2023-12-31-23:55"] and last == "2023-12-31-23:55"
    page, last = key_page(keys, after=None, limit=2, newest_first=False)
    assert page == ["2022-01-01-00:00", "2022-01-01-00:01"]
    tail, none = key_page(keys, after="2023-12-31-23:58", limit=5, newest_first=False)
    assert tail == ["2023-12-31-23:59"] and none is None
    with pytest.raises(ApiError) as refused:
        key_page(keys, after="../x", limit=5, newest_first=True)
    assert refused.value.status == 400 and refused.value.field == "cursor"


def test_spaces_are_rebuilt_from_the_snapshot_or_refused_clearly():
    assert space_of("a", SPACE.describe()) == SPACE
    with pytest.raises(ApiError) as unpartitioned:
        space_of("a", None)
    assert unpartitioned.value.status == 404 and unpartitioned.value.code == "not_partitioned"
    for weird in (
        {"kind": "quantum"},
        {"kind": "time_window"},
        {"kind": "static", "keys": ["a/b"]},
        ["not", "a", "dict"],
    ):
        with pytest.raises(ApiError) as unreadable:
            space_of("a", weird)
        assert unreadable.value.status == 409, weird
    assert dynamic_sets_of(SPACE.describe()) == {"t"}
