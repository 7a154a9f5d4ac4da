"""The compatibility relation: may a value of one shape be handed to code that expects another?

``value_mismatch(produced, expected)`` is None when every value the producer's shape allows is one
the consumer's shape allows too (the producer's type is the consumer's, or a subtype of it). The
rules, in the order they are tried:

- ``Any`` (or no annotation) on either side is compatible with everything: nothing is known.
- A union produced: each of its options must fit. A union expected: the value must fit one option.
- ``Literal`` values fit a literal that has them all, or the type of each value.
- A scalar fits the same scalar; ``int`` also fits ``float`` (msgspec accepts an int for a
  float). ``bool`` does not fit ``int``. Constraints (``Meta(ge=0)``) expected must be implied by
  the produced ones.
- ``list``/``set``/``frozenset``/``tuple[X, ...]`` fit the same container of a wider item: a
  hand-off is read, not written back, so containers are covariant. ``tuple[A, B]`` also fits
  ``tuple[X, ...]``. ``dict`` is covariant in its keys and values.
- Classes (Structs, dataclasses, Pydantic models, any other class) are nominal: the expected class
  must be the produced one or one of its bases; fields the expected class declares must then be
  there with fitting types (which catches one class changed between two versions of a project).
- A ``TypedDict`` is structural: each field the consumer requires must be required by the
  producer's, with a fitting type; it also fits ``dict[str, V]`` if each field fits ``V``.
- An ``Enum`` fits the same enum with at least its members.

``table_mismatch(contract, needs)`` compares columns: each needed column must be in the contract
with the same dtype (a family such as ``timestamp`` takes any unit; ``any`` takes any dtype), and
each column needed ``not_null`` must be declared ``not_null``. Columns not needed are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from legato.definitions.contracts import dtype_satisfies
from legato.graph.shapes import Shape, render

_SCALARS = {"int", "float", "str", "bool", "bytes", "datetime", "date", "time", "timedelta"}
_SCALARS |= {"uuid", "decimal"}
_CONTAINERS = {"list", "set", "frozenset", "vartuple"}
_NOMINAL = {"struct", "dataclass", "model", "namedtuple", "class", "typeddict", "enum"}
_LITERAL_KIND = {bool: "bool", int: "int", float: "float", str: "str", type(None): "none"}


@dataclass(frozen=True)
class Mismatch:
    """Where two shapes disagree: the path into the value (``$[*].amount``) or the column,
    what the producer gives there, what the consumer expects there, and why it does not fit."""

    path: str
    produced: str
    expected: str
    reason: str

    def describe(self) -> str:
        return f"at {self.path}: {self.reason}"


def value_mismatch(produced: Shape, expected: Shape) -> Mismatch | None:
    """None if a value of shape ``produced`` always fits ``expected``, else the first place it
    may not."""
    return _fit(produced, expected, "$")


def _fail(produced: Shape, expected: Shape, path: str, reason: str | None = None) -> Mismatch:
    p, e = render(produced), render(expected)
    if p == e and produced.get("name") != expected.get("name"):  # two classes of one name
        p, e = produced.get("name", p), expected.get("name", e)
    return Mismatch(path, p, e, reason or f"{p} is produced, {e} is expected")


def _fit(p: Shape, e: Shape, path: str) -> Mismatch | None:
    pk, ek = p["kind"], e["kind"]
    if pk == "any" or ek == "any" or p is e:  # one annotation gives one (shared) shape
        return None
    if pk == "union":
        for option in p["options"]:
            found = _fit(option, e, path)
            if found is not None:
                return _fail(p, e, path, f"{render(p)} is produced; {found.reason}")
        return None
    if ek == "union":
        closest = None
        for option in e["options"]:
            found = _fit(p, option, path)
            if found is None:
                return None
            if option["kind"] == pk and closest is None:
                closest = found  # the option of the same kind explains the problem best
        return closest or _fail(p, e, path)
    if pk == "literal":
        return _fit_literal(p, e, path)
    if ek == "literal":
        return _fail(p, e, path, f"{render(p)} is produced, only {render(e)} is expected")
    if "ref" in (pk, ek):
        return None if p.get("name") == e.get("name") else _fail(p, e, path)
    if pk in _SCALARS:
        if pk != ek and not (pk == "int" and ek == "float"):
            return _fail(p, e, path)
        return _fit_limits(p, e, path)
    if pk in _CONTAINERS or pk == "tuple":
        return _fit_sequence(p, e, path)
    if pk == "dict":
        return _fit_dict(p, e, path) if ek == "dict" else _fail(p, e, path)
    if pk == "typeddict" and ek in ("typeddict", "dict"):
        return _fit_typeddict(p, e, path)
    if pk in _NOMINAL and ek in _NOMINAL:
        return _fit_class(p, e, path)
    if pk == ek == "none":
        return None
    return _fail(p, e, path)


def _fit_literal(p: Shape, e: Shape, path: str) -> Mismatch | None:
    if e["kind"] == "literal":
        extra = [v for v in p["values"] if v not in e["values"]]
        if extra:
            return _fail(p, e, path, f"{extra[0]!r} may be produced, {render(e)} is expected")
        return None
    for value in p["values"]:
        kind = _LITERAL_KIND.get(type(value))
        if kind is None or _fit({"kind": kind}, e, path) is not None:
            return _fail(p, e, path, f"{value!r} may be produced, {render(e)} is expected")
    return None


def _fit_limits(p: Shape, e: Shape, path: str) -> Mismatch | None:
    have: Mapping[str, Any] = p.get("constraints", {})
    want: Mapping[str, Any] = e.get("constraints", {})
    for name, bound in want.items():
        if not _implied(name, bound, have):
            given = f" ({name}={have[name]!r})" if name in have else ""
            return _fail(
                p, e, path, f"{name}={bound!r} is expected, the producer does not promise it{given}"
            )
    return None


def _implied(name: str, bound: Any, have: Mapping[str, Any]) -> bool:
    """Whether the produced constraints ``have`` guarantee ``name=bound``."""
    try:
        if name in ("ge", "gt"):
            lower = [(v, k) for k, v in have.items() if k in ("ge", "gt")]
            return any(v > bound or (v == bound and (k == "gt" or name == "ge")) for v, k in lower)
        if name in ("le", "lt"):
            upper = [(v, k) for k, v in have.items() if k in ("le", "lt")]
            return any(v < bound or (v == bound and (k == "lt" or name == "le")) for v, k in upper)
        if name == "min_length":
            return bool(have.get("min_length", 0) >= bound)
        if name == "max_length":
            return "max_length" in have and bool(have["max_length"] <= bound)
    except TypeError:  # bounds of kinds that do not compare
        return False
    return bool(have.get(name) == bound)


def _fit_sequence(p: Shape, e: Shape, path: str) -> Mismatch | None:
    pk, ek = p["kind"], e["kind"]
    if pk == "tuple":
        if ek == "tuple":
            if len(p["items"]) != len(e["items"]):
                return _fail(p, e, path, f"{render(p)} is produced, {render(e)} is expected")
            pairs = list(zip(p["items"], e["items"], strict=True))
        elif ek == "vartuple":
            pairs = [(item, e["item"]) for item in p["items"]]
        else:
            return _fail(p, e, path)
        for i, (item, want) in enumerate(pairs):
            found = _fit(item, want, f"{path}[{i}]")
            if found is not None:
                return found
        exact = {"min_length": len(pairs), "max_length": len(pairs)}
        return _fit_limits({**p, "constraints": exact}, e, path) if ek == "vartuple" else None
    if pk != ek:
        return _fail(p, e, path)
    return _fit(p["item"], e["item"], f"{path}[*]") or _fit_limits(p, e, path)


def _fit_dict(p: Shape, e: Shape, path: str) -> Mismatch | None:
    found = _fit(p["key"], e["key"], f"{path} (keys)") or _fit(p["value"], e["value"], f"{path}[*]")
    return found or _fit_limits(p, e, path)


def _fit_fields(p: Shape, e: Shape, path: str) -> Mismatch | None:
    have = p["fields"]
    for name, want in e["fields"].items():
        where = f"{path}.{name}"
        got = have.get(name)
        if got is None:
            if want["required"]:
                return _fail(
                    p, e, where, f"{render(e)} requires field {name!r}, {render(p)} has none"
                )
            continue
        if want["required"] and not got["required"]:
            return _fail(
                p, e, where, f"{render(e)} requires field {name!r}, {render(p)} may leave it out"
            )
        found = _fit(got["type"], want["type"], where)
        if found is not None:
            return found
    return None


def _fit_typeddict(p: Shape, e: Shape, path: str) -> Mismatch | None:
    if e["kind"] == "typeddict":
        return _fit_fields(p, e, path)
    key = _fit({"kind": "str"}, e["key"], f"{path} (keys)")
    if key is not None:
        return key
    for name, field in p["fields"].items():
        found = _fit(field["type"], e["value"], f"{path}.{name}")
        if found is not None:
            return found
    return None


def _fit_class(p: Shape, e: Shape, path: str) -> Mismatch | None:
    if e["name"] not in p.get("bases", [p["name"]]):
        return _fail(
            p,
            e,
            path,
            f"{render(p)} is produced, {render(e)} is expected "
            f"({p['name']} is not {e['name']} nor a subclass of it)",
        )
    if p["kind"] == e["kind"] == "enum":
        missing = [v for v in p["values"] if v not in e["values"]]
        if missing:
            return _fail(
                p, e, path, f"{render(p)} may be {missing[0]!r}, which {render(e)} does not have"
            )
        return None
    if "fields" in p and "fields" in e:
        return _fit_fields(p, e, path)
    return None


def table_mismatch(contract: Mapping[str, Any] | None, needs: Mapping[str, Any]) -> Mismatch | None:
    """None if a table under ``contract`` has every column ``needs`` names, as it needs it.
    Both are ``{"columns": {name: dtype}, "not_null": [names]}``; no contract: nothing known."""
    if contract is None:
        return None
    columns: Mapping[str, str] = contract["columns"]
    for name, dtype in needs["columns"].items():
        where = f"column {name!r}"
        have = columns.get(name)
        if have is None:
            return Mismatch(
                where,
                "no such column",
                dtype,
                f"column {name!r} ({dtype}) is needed, the contract has no {name!r}",
            )
        if not dtype_satisfies(have, dtype):
            return Mismatch(
                where, have, dtype, f"column {name!r} is {have} in the contract, {dtype} is needed"
            )
    for name in needs["not_null"]:
        if name not in contract["not_null"]:
            return Mismatch(
                f"column {name!r}",
                "nullable",
                "not null",
                f"column {name!r} is needed not null, the contract allows nulls",
            )
    return None
