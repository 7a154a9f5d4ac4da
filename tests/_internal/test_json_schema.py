"""The JSON Schema subset config models are checked with: every problem, with its path and fix."""

from __future__ import annotations

import msgspec
import pydantic

from legato._internal.json_schema import dotted, non_finite_number, problems
from legato.definitions.config import config_schema


class Window(msgspec.Struct):
    days: int


class Load(msgspec.Struct):
    table: str
    mode: str = "append"
    window: Window | None = None
    tags: list[str] = []


class Limits(pydantic.BaseModel):
    top: int = pydantic.Field(default=3, ge=1, le=10)
    when: str | None = pydantic.Field(default=None, json_schema_extra={"format": "date"})


def _messages(schema, value):  # type: ignore[no-untyped-def]
    return [(p.where, p.message, p.hint) for p in problems(schema, value, name="the config")]


def test_a_conforming_value_has_no_problems():
    schema = config_schema(Load)
    assert problems(schema, {"table": "t", "window": {"days": 2}, "tags": ["a"]}) == []


def test_every_problem_is_reported_with_its_path_and_fix():
    found = _messages(config_schema(Load), {"mode": 3, "window": {"dayz": 1}, "tags": [1]})
    assert ("table", "table is required", "add 'table' (a string) to the config") in found
    assert ("mode", "mode must be a string, not 3", "write a string") in found
    assert ("window.dayz", "window.dayz is not a known key", "did you mean 'days'?") in found
    assert any(where == "window.days" for where, _, _ in found)  # required inside the nested one
    assert ("tags[0]", "tags[0] must be a string, not 1", "write a string") in found


def test_unknown_keys_are_refused_even_where_the_model_would_ignore_them():
    # Neither library refuses extra keys by default; a run config with a typo must not pass.
    found = _messages(config_schema(Limits), {"topp": 5})
    assert found == [("topp", "topp is not a known key", "did you mean 'top'?")]


def test_bounds_formats_and_quoted_numbers_get_their_own_fixes():
    found = _messages(config_schema(Limits), {"top": "5", "when": "yesterday"})
    assert (
        "top",
        "top must be a whole number, not '5'",
        "write the number without quotes, e.g. 5",
    ) in found
    assert ("when", "when is not a date", "write an ISO date") in found
    assert _messages(config_schema(Limits), {"top": 11}) == [
        ("top", "top is 11", "give a number at most 10")
    ]


def test_non_finite_numbers_are_refused_wherever_they_are():
    assert _messages({"type": "object"}, {"x": float("nan")}) == []  # no schema reaches it
    assert _messages({"type": "number"}, float("inf")) == [
        ("", "the config is not a finite number", "write a finite number, or null")
    ]
    assert non_finite_number({"rows": [1, float("-inf")]}, "config") == "config.rows[1]"
    assert dotted(("a", 2, "b")) == "a[2].b"
