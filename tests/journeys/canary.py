"""A canary secret's hunt: the forms it may leak in, the whole store as text, and the check that
none of those forms appears in what a test collected."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import MetaData, select

from legato.store.engine import Store


def forms(token: str) -> list[str]:
    """The token as it would leak: itself, base64 (plain and URL-safe), URL-quoted, hex."""
    raw = token.encode()
    return [
        token,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        urllib.parse.quote(token, safe=""),
        raw.hex(),
    ]


def store_text(store: Store) -> str:
    """Every value of every row of every table of the store, as text."""
    tables = MetaData()
    with store.read() as conn:
        tables.reflect(conn)
        return "\n".join(
            repr(tuple(row))
            for table in tables.sorted_tables
            for row in conn.execute(select(table))
        )


def strings(value: Any) -> Iterator[str]:
    """Every string inside a decoded JSON document, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def assert_nowhere(token: str, sinks: Mapping[str, str]) -> None:
    """Fail naming the sink and the form if any form of ``token`` is in any sink's text."""
    for where, text in sinks.items():
        leaked = [form for form in forms(token) if form in text]
        assert not leaked, f"the canary leaked into {where} as {leaked}:\n{text[-3000:]}"
