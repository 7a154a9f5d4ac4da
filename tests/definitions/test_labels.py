"""Tags, descriptions, owners and the names of IO managers and pools are text, checked where they
are written: an error names the definition, its file:line and the fix."""

from __future__ import annotations

from typing import Any

import pytest

import legato as lg

HERE = "test_labels.py:"


@pytest.mark.parametrize(
    "options, match, fix",
    [
        ({"tags": {"priority": 1}}, "tag 'priority'=1 must map strings to strings", "tags={"),
        ({"tags": ["team"]}, r"tags=\['team'\] is not a mapping", "tags={"),
        ({"description": 3}, "description=3 is not text", "pass description as a string"),
        ({"owners": "ada@shop"}, "owners='ada@shop' is not a list of names", "owners=["),
        ({"owners": ["ada@shop", 7]}, "owners entry 7 is not text", "owners=["),
        ({"io_manager": 1}, "io_manager=1 is not text", "pass io_manager as a string"),
        ({"pool": ("db",)}, r"pool=\('db',\) is not text", "pass pool as a string"),
    ],
)
def test_an_asset_refuses_labels_that_are_not_text(options: dict[str, Any], match, fix):
    with pytest.raises(lg.DefinitionError, match=match) as info:

        @lg.asset(**options)
        def orders() -> int:
            return 1

    assert "asset 'orders'" in str(info.value) and HERE in str(info.value)
    assert info.value.obj == "asset 'orders'" and HERE in (info.value.source or "")
    assert fix in (info.value.hint or "")


def test_text_labels_are_kept_as_given():
    @lg.asset(tags={"team": "sales"}, description="Orders.", owners=["ada@shop"], pool="db")
    def orders() -> int:
        return 1

    nightly = lg.Pipeline("nightly", tags={"team": "sales"}, description="Every night.")
    assert orders.tags == {"team": "sales"} and orders.owners == ("ada@shop",)
    assert orders.description == "Orders." and orders.pool == "db"
    assert nightly.tags == {"team": "sales"} and nightly.description == "Every night."


@pytest.mark.parametrize(
    "options, match",
    [
        ({"tags": {"team": 1}}, "tag 'team'=1 must map strings to strings"),
        ({"description": ["nightly"]}, r"description=\['nightly'\] is not text"),
    ],
)
def test_a_pipeline_refuses_labels_that_are_not_text(options: dict[str, Any], match):
    with pytest.raises(lg.DefinitionError, match=match) as info:
        lg.Pipeline("nightly", **options)
    assert "pipeline 'nightly'" in str(info.value) and HERE in str(info.value)


def test_a_check_and_an_external_asset_refuse_a_description_that_is_not_text():
    with pytest.raises(lg.DefinitionError, match=r"check 'positive'.*description=2 is not text"):

        @lg.check(asset="orders", description=2)  # type: ignore[arg-type]
        def positive(orders: int) -> bool:
            return orders > 0

    with pytest.raises(lg.DefinitionError, match=r"external asset 'orders'.*io_manager=3") as info:
        lg.external_asset("orders", io_manager=3)  # type: ignore[arg-type]
    assert HERE in (info.value.source or "")
