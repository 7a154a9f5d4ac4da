"""The text that describes a definition (its tags, description, owners, the names of its IO
manager and pool), checked where it is written: the definitions snapshot records it as text, and
the daemon and the web server read it back as text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from legato.errors import DefinitionError


def check_tags(tags: Mapping[str, str] | None, what: str, source: str | None) -> dict[str, str]:
    """``tags`` as a dict; DefinitionError naming ``what`` unless it maps strings to strings."""
    if tags is not None and not isinstance(tags, Mapping):
        raise DefinitionError(
            f"{what}{_at(source)}: tags={tags!r} is not a mapping",
            obj=what,
            source=source,
            hint='write tags={"team": "finance"}',
        )
    checked = dict(tags or {})
    for k, v in checked.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise DefinitionError(
                f"{what}{_at(source)}: tag {k!r}={v!r} must map strings to strings",
                obj=what,
                source=source,
                hint='write tags={"team": "finance"}',
            )
    return checked


def check_text(value: object, name: str, what: str, source: str | None) -> str | None:
    """``value`` (the argument ``name``) if it is text or None; DefinitionError otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise DefinitionError(
        f"{what}{_at(source)}: {name}={value!r} is not text",
        obj=what,
        source=source,
        hint=f"pass {name} as a string, or leave it out",
    )


def check_names(
    values: Iterable[str] | None, name: str, what: str, source: str | None
) -> tuple[str, ...]:
    """``values`` (the argument ``name``, e.g. owners) as a tuple of strings; DefinitionError
    naming ``what`` for a single string (its letters would each count) or a non-string item."""
    if isinstance(values, str) or not isinstance(values, Iterable | None):
        raise DefinitionError(
            f"{what}{_at(source)}: {name}={values!r} is not a list of names",
            obj=what,
            source=source,
            hint=f'pass a list, e.g. {name}=["ada@example.com"]',
        )
    checked = tuple(values or ())
    for item in checked:
        if not isinstance(item, str):
            raise DefinitionError(
                f"{what}{_at(source)}: {name} entry {item!r} is not text",
                obj=what,
                source=source,
                hint=f'pass names as strings, e.g. {name}=["ada@example.com"]',
            )
    return checked


def _at(source: str | None) -> str:
    return f" ({source})" if source else ""
