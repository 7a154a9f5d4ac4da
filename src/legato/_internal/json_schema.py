"""Check JSON values against a JSON Schema: the subset that msgspec and Pydantic write for models.

Supported: ``type``, ``enum``, ``const``, ``properties``, ``required``, ``additionalProperties``,
``items``, ``prefixItems``, ``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` to
``#/$defs/...``, numeric bounds, ``minLength``/``maxLength``/``pattern`` and the ``date``,
``date-time`` and ``uuid`` formats. Every problem is reported with its path and a fix, not only
the first. Pure: no I/O, no third-party validator.
"""

from __future__ import annotations

import difflib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

_JSON_TYPES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
    "array": "a list",
    "object": "an object",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a value: where (``path`` segments from the root), what, and the fix."""

    path: tuple[str | int, ...]
    message: str
    hint: str

    @property
    def where(self) -> str:
        return dotted(self.path)


def dotted(path: tuple[str | int, ...]) -> str:
    """``("orders", "limits", 2)`` → ``orders.limits[2]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def non_finite_number(value: Any, path: str) -> str | None:
    """Where ``value`` holds a NaN or infinite number (``NaN``, ``Infinity``, ``1e999`` parse to
    one), e.g. ``config.rows[2]``; None if nowhere. JSON has no such numbers: stored, they
    would silently become null."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:  # a loop, not recursion: a deeply nested body cannot exhaust the stack
        item, where = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where
        if isinstance(item, dict):
            pending.extend((v, f"{where}.{k}") for k, v in reversed(item.items()))
        elif isinstance(item, list):
            pending.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None


def problems(schema: Mapping[str, Any], value: Any, *, name: str = "the value") -> list[Problem]:
    """Everything wrong with ``value`` under ``schema`` (empty: it conforms); ``name`` is what
    messages call the value itself."""
    walk = _Walk(schema, name, [])
    _check(schema, value, (), walk, 0)
    return walk.out


@dataclass
class _Walk:
    root: Mapping[str, Any]  # where $refs are resolved
    name: str  # what messages call the value at the root
    out: list[Problem]

    def where(self, path: tuple[str | int, ...]) -> str:
        return dotted(path) or self.name


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is(value: Any, json_type: str) -> bool:
    actual = _type_of(value)
    return actual == json_type or (json_type == "number" and actual == "integer")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


def _check(
    schema: Mapping[str, Any] | bool,
    value: Any,
    path: tuple[str | int, ...],
    w: _Walk,
    depth: int,
) -> None:
    if schema is True or schema == {}:
        return
    where = w.where(path)
    if schema is False or depth > 64:
        w.out.append(Problem(path, f"{where} is not allowed here", "remove it"))
        return
    assert isinstance(schema, Mapping)
    if isinstance(value, float) and not math.isfinite(value):
        w.out.append(
            Problem(path, f"{where} is not a finite number", "write a finite number, or null")
        )
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, w.root)
        if target is not None:
            _check(target, value, path, w, depth + 1)
    for part in schema.get("allOf", ()):
        _check(part, value, path, w, depth + 1)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        _check_options(options, value, path, w, depth)
    if not _check_type(schema, value, path, w):
        return
    if "const" in schema and value != schema["const"]:
        w.out.append(
            Problem(path, f"{where} must be {schema['const']!r}", f"write {schema['const']!r}")
        )
    if "enum" in schema and value not in schema["enum"]:
        allowed = list(schema["enum"])
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        w.out.append(
            Problem(
                path,
                f"{where} is {_shown(value)}, not one of {allowed}",
                f"{hint}use one of {allowed}",
            )
        )
    if isinstance(value, dict):
        _check_object(schema, value, path, w, depth)
    elif isinstance(value, list | tuple):
        _check_array(schema, list(value), path, w, depth)
    elif isinstance(value, str):
        _check_string(schema, value, path, w)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(schema, value, path, w)


def _check_type(
    schema: Mapping[str, Any], value: Any, path: tuple[str | int, ...], w: _Walk
) -> bool:
    wanted = schema.get("type")
    if wanted is None:
        return True
    types = [wanted] if isinstance(wanted, str) else list(wanted)
    if any(_is(value, t) for t in types):
        return True
    words = " or ".join(_JSON_TYPES.get(t, t) for t in types)
    where = w.where(path)
    hint = f"write {words}"
    if isinstance(value, str) and any(t in ("integer", "number") for t in types):
        hint = f"write the number without quotes, e.g. {value.strip() or 0}"
    elif isinstance(value, str) and "boolean" in types:
        hint = "write true or false without quotes"
    actual = _type_of(value)
    shown = _JSON_TYPES.get(actual, actual) if actual in ("array", "object") else _shown(value)
    w.out.append(Problem(path, f"{where} must be {words}, not {shown}", hint))
    return False


def _check_options(
    options: list[Any],
    value: Any,
    path: tuple[str | int, ...],
    w: _Walk,
    depth: int,
) -> None:
    attempts: list[list[Problem]] = []
    for option in options:
        trial = _Walk(w.root, w.name, [])
        _check(option, value, path, trial, depth + 1)
        if not trial.out:
            return
        attempts.append(trial.out)
    # Report the option that came closest, usually the one meant: one whose type fits (its
    # problems are deeper inside), then the one with the fewest problems.
    w.out.extend(
        sorted(attempts, key=lambda found: (any(p.path == path for p in found), len(found)))[0]
    )


def _check_object(
    schema: Mapping[str, Any],
    value: dict[str, Any],
    path: tuple[str | int, ...],
    w: _Walk,
    depth: int,
) -> None:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    where = w.where(path)
    for name in schema.get("required", ()):
        if name not in value:
            w.out.append(
                Problem(
                    (*path, name),
                    f"{dotted((*path, name))} is required",
                    f"add {name!r}{_kind_of(properties.get(name), w.root)} to {where}",
                )
            )
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            _check(properties[name], item, (*path, name), w, depth + 1)
        elif extra is False:
            known = sorted(properties)
            close = difflib.get_close_matches(str(name), known, n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"remove it; known keys: {known}"
            w.out.append(Problem((*path, name), f"{dotted((*path, name))} is not a known key", fix))
        elif isinstance(extra, Mapping):
            _check(extra, item, (*path, name), w, depth + 1)


def _kind_of(schema: Any, root: Mapping[str, Any]) -> str:
    if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        schema = _resolve(schema["$ref"], root) or schema
    wanted = schema.get("type") if isinstance(schema, Mapping) else None
    if not isinstance(wanted, str) or wanted not in _JSON_TYPES:
        return ""
    needs = list(schema.get("required", ())) if wanted == "object" else []
    return f" ({_JSON_TYPES[wanted]}{' with ' + ', '.join(map(repr, needs)) if needs else ''})"


def _check_array(
    schema: Mapping[str, Any],
    value: list[Any],
    path: tuple[str | int, ...],
    w: _Walk,
    depth: int,
) -> None:
    where = w.where(path)
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None and len(value) < low:
        w.out.append(Problem(path, f"{where} has {len(value)} items", f"give at least {low}"))
    if high is not None and len(value) > high:
        w.out.append(Problem(path, f"{where} has {len(value)} items", f"give at most {high}"))
    prefix = schema.get("prefixItems") or []
    for index, item in enumerate(value):
        item_schema = prefix[index] if index < len(prefix) else schema.get("items", True)
        _check(item_schema, item, (*path, index), w, depth + 1)


_FORMATS: dict[str, Callable[[str], object]] = {
    "date-time": lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")),
    "date": date.fromisoformat,
    "uuid": uuid.UUID,
}


def _check_string(
    schema: Mapping[str, Any], value: str, path: tuple[str | int, ...], w: _Walk
) -> None:
    where = w.where(path)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None and len(value) < low:
        w.out.append(Problem(path, f"{where} is shorter than {low} characters", "write more"))
    if high is not None and len(value) > high:
        w.out.append(Problem(path, f"{where} is longer than {high} characters", "shorten it"))
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        w.out.append(Problem(path, f"{where} does not match {pattern!r}", "fix its format"))
    parse = _FORMATS.get(str(schema.get("format")))
    if parse is not None:
        try:
            parse(value)
        except ValueError:
            fmt = schema["format"]
            w.out.append(Problem(path, f"{where} is not a {fmt}", f"write an ISO {fmt}"))


_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


def _check_number(
    schema: Mapping[str, Any], value: float, path: tuple[str | int, ...], w: _Walk
) -> None:
    where = w.where(path)
    for key, words in _BOUNDS.items():
        bound = schema.get(key)
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            ok = {
                "minimum": value >= bound,
                "exclusiveMinimum": value > bound,
                "maximum": value <= bound,
                "exclusiveMaximum": value < bound,
            }[key]
            if not ok:
                w.out.append(Problem(path, f"{where} is {value}", f"give a number {words} {bound}"))
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and step and (value / step) % 1:
        w.out.append(Problem(path, f"{where} is {value}", f"give a multiple of {step}"))
