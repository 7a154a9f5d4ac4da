"""Shapes: a type annotation as plain JSON data (``{"kind": "list", "item": {"kind": "int"}}``).

Annotations are read with ``msgspec.inspect``, which already resolves what a hand-written reader
would get wrong (``Optional``, ``Annotated`` constraints, ``NewType``, generic aliases, recursive
Structs, TypedDict ``NotRequired``). Pydantic models, which msgspec treats as opaque classes, are
expanded from their ``model_fields``. A shape survives a trip through JSON, so two versions of a
project can be compared without importing both (``legato check --against``).

Kinds: ``any``, ``none``, scalars (``int``, ``float``, ``str``, ``bool``, ``bytes``, ``datetime``,
``date``, ``time``, ``timedelta``, ``uuid``, ``decimal``; with ``constraints``), ``list``,
``set``, ``frozenset``, ``vartuple`` (``item``), ``tuple`` (``items``), ``dict`` (``key``,
``value``), ``union`` (``options``), ``literal`` (``values``), ``enum`` (``name``, ``values``),
objects (``struct``, ``dataclass``, ``model``, ``namedtuple``, ``typeddict``: ``name``,
``bases``, ``fields``), ``class`` (``name``, ``bases``) and ``ref`` (a recursive object by name).
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import msgspec
import msgspec.inspect as mi

Shape = dict[str, Any]
ANY: Shape = {"kind": "any"}

_SCALARS: dict[type, str] = {
    mi.BoolType: "bool",
    mi.IntType: "int",
    mi.FloatType: "float",
    mi.StrType: "str",
    mi.BytesType: "bytes",
    mi.ByteArrayType: "bytes",
    mi.MemoryViewType: "bytes",
    mi.DateTimeType: "datetime",
    mi.DateType: "date",
    mi.TimeType: "time",
    mi.TimeDeltaType: "timedelta",
    mi.UUIDType: "uuid",
    mi.DecimalType: "decimal",
}
_COLLECTIONS: dict[type, str] = {
    mi.ListType: "list",
    mi.SetType: "set",
    mi.FrozenSetType: "frozenset",
    mi.VarTupleType: "vartuple",
}
_OBJECTS: dict[type, str] = {
    mi.StructType: "struct",
    mi.DataclassType: "dataclass",
    mi.TypedDictType: "typeddict",
    mi.NamedTupleType: "namedtuple",
}
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern", "tz")


def shape_of(annotation: Any) -> Shape:
    """The shape of an annotation; ``any`` for what cannot be described (an unresolved string,
    a bare TypeVar): such a hand-off is compatible with everything and checked for nothing.

    Shapes are shared between the steps with one annotation: read them, never change them."""
    try:
        return _cached_shape(annotation)
    except TypeError:  # an unhashable annotation (rare): described each time
        return _shape(annotation)


@functools.lru_cache(maxsize=4096)
def _cached_shape(annotation: Any) -> Shape:
    return _shape(annotation)


def _shape(annotation: Any) -> Shape:
    if annotation is None or isinstance(annotation, str):
        return ANY if isinstance(annotation, str) else {"kind": "none"}
    try:
        info = mi.type_info(annotation)
    except (TypeError, ValueError, NameError):
        return ANY
    return _convert(info, set())


def qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _convert(info: Any, seen: set[type]) -> Shape:
    kind = type(info)
    if kind is mi.AnyType:
        return ANY
    if kind is mi.NoneType:
        return {"kind": "none"}
    if kind in _SCALARS:
        limits = {
            c: _json(getattr(info, c)) for c in _CONSTRAINTS if getattr(info, c, None) is not None
        }
        return {"kind": _SCALARS[kind], **({"constraints": limits} if limits else {})}
    if kind in _COLLECTIONS:
        return _sized({"kind": _COLLECTIONS[kind], "item": _convert(info.item_type, seen)}, info)
    if isinstance(info, mi.TupleType):
        return {"kind": "tuple", "items": [_convert(t, seen) for t in info.item_types]}
    if isinstance(info, mi.DictType) or hasattr(info, "key_type"):  # FrozenDictType too
        shape = {
            "kind": "dict",
            "key": _convert(info.key_type, seen),
            "value": _convert(info.value_type, seen),
        }
        return _sized(shape, info)
    if isinstance(info, mi.UnionType):
        return {"kind": "union", "options": [_convert(t, seen) for t in info.types]}
    if isinstance(info, mi.LiteralType):
        return {"kind": "literal", "values": [_json(v) for v in info.values]}
    if isinstance(info, mi.EnumType):
        values = [_json(m.value) for m in info.cls]
        return {"kind": "enum", "name": qualname(info.cls), "values": values}
    if kind in _OBJECTS:
        fields = [(f.name, f.type, f.required) for f in info.fields]
        return _object(_OBJECTS[kind], info.cls, fields, seen)
    if isinstance(info, mi.CustomType):
        return _custom(info.cls, seen)
    return {"kind": "class", "name": type(info).__name__, "bases": []}  # msgspec's Raw, Ext


def _custom(cls: type, seen: set[type]) -> Shape:
    if cls is object:
        return ANY
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        fields = []
        model: Any = cls
        for name, field in model.model_fields.items():
            try:
                info = mi.type_info(field.annotation)
            except (TypeError, ValueError, NameError):
                info = mi.AnyType()
            fields.append((name, info, field.is_required()))
        return _object("model", cls, fields, seen)
    return {"kind": "class", "name": qualname(cls), "bases": _bases(cls)}


def _object(kind: str, cls: type, fields: list[tuple[str, Any, bool]], seen: set[type]) -> Shape:
    if cls in seen:  # a recursive type: compared by name below its first appearance
        return {"kind": "ref", "name": qualname(cls)}
    seen = seen | {cls}
    return {
        "kind": kind,
        "name": qualname(cls),
        "bases": _bases(cls),
        "fields": {
            name: {"type": _convert(info, seen), "required": required}
            for name, info, required in fields
        },
    }


def _bases(cls: type) -> list[str]:
    """The class and its public base classes: a consumer may ask for any of them."""
    mro = getattr(cls, "__mro__", (cls,))
    names = [qualname(c) for c in mro if c is not object]
    return names[:1] + [n for n in names[1:] if not any(p.startswith("_") for p in n.split("."))]


def _sized(shape: Shape, info: Any) -> Shape:
    limits = {c: getattr(info, c) for c in ("min_length", "max_length")}
    limits = {c: v for c, v in limits.items() if v is not None}
    return {**shape, "constraints": limits} if limits else shape


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        return repr(value)


def render(shape: Shape) -> str:
    """A shape as a reader would write the annotation: ``list[int]``, ``Order | None``."""
    kind = shape["kind"]
    if kind == "any":
        return "Any"
    if kind == "none":
        return "None"
    if kind in ("list", "set", "frozenset"):
        text = f"{kind}[{render(shape['item'])}]"
    elif kind == "vartuple":
        text = f"tuple[{render(shape['item'])}, ...]"
    elif kind == "tuple":
        text = f"tuple[{', '.join(render(s) for s in shape['items']) or '()'}]"
    elif kind == "dict":
        text = f"dict[{render(shape['key'])}, {render(shape['value'])}]"
    elif kind == "union":
        return " | ".join(render(s) for s in shape["options"])
    elif kind == "literal":
        return f"Literal[{', '.join(repr(v) for v in shape['values'])}]"
    elif "name" in shape:
        text = shape["name"].rsplit(".", 1)[-1]
    else:
        text = kind
    limits = shape.get("constraints")
    if limits:
        text += " (" + ", ".join(f"{k}={v!r}" for k, v in limits.items()) + ")"
    return text
