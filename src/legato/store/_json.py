"""JSON in the store: the ``Json`` column type (JSONB on PostgreSQL, JSON text on SQLite), and
``dumps``/``loads`` for JSON kept in other places (msgspec: fast, and strict about what it
accepts)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, Dialect, Text, func
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def dumps(value: Any) -> str:
    return _encoder.encode(value).decode()


def loads(text: str | None) -> Any:
    return None if not text else _decoder.decode(text)


class Json(TypeDecorator[Any]):
    """A JSON document: any value msgspec encodes goes in, the decoded value comes out.

    PostgreSQL stores it as ``JSONB`` (queryable, validated by the server); SQLite as text, which
    its JSON functions read. Either way the value is bound as its JSON text, so the store's
    secret masking, which rewrites every string parameter, sees it like any other string.
    ``None`` is SQL NULL, not JSON ``null``.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(Text())

    def bind_processor(self, dialect: Dialect) -> Any:
        return _encode_for_postgresql if dialect.name == "postgresql" else _encode

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return None if dialect.name == "postgresql" else loads  # psycopg decodes JSONB itself


def _encode(value: Any) -> str | None:
    return None if value is None else _encoder.encode(value).decode()


def _encode_for_postgresql(value: Any) -> str | None:
    """JSON text PostgreSQL accepts as ``JSONB``: it refuses the NUL character (``\\u0000``) in
    strings, which SQLite and JSON allow, so NULs become U+FFFD (the replacement character)."""
    if value is None:
        return None
    text = _encoder.encode(value)
    if b"\\u0000" in text:  # rare: only then walk the value
        text = _encoder.encode(_without_nul(value))
    return text.decode()


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def as_stored(value: Any) -> Any:
    """``value`` as a ``Json`` column gives it back (tuples as lists, keys as strings), to
    compare a value about to be written with the one stored."""
    return _decoder.decode(_encoder.encode(value))


def json_type(conn: Connection, document: ColumnElement[Any]) -> ColumnElement[str]:
    """The JSON type (``object``, ``array``, ``string``, ...) of a ``Json`` column, in SQL."""
    if conn.dialect.name == "postgresql":
        return func.jsonb_typeof(document)
    return func.json_type(document)
