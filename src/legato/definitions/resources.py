"""Resources: typed, configured clients injected into steps, and references to secrets."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, dataclass_transform

from legato._internal.secrets import resolve as resolve_secret
from legato.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class SecretRef:
    """A secret by name; its value exists only in the process that runs the step.

    ``get()`` reads the environment variable ``name`` (or the file ``name`` in
    ``$LEGATO_SECRETS_DIR``) there, and from then on that process masks the value, and its
    base64, URL and hex forms, as ``***`` in step logs and error messages. The value is never
    stored: config, snapshots and run records hold only the name.

    Example:
        >>> class Warehouse(Resource):
        ...     url: str
        ...     password: SecretRef
        ...     def setup(self) -> None:
        ...         self.conn = connect(self.url, password=self.password.get())
    """

    name: str

    def __repr__(self) -> str:
        return f"SecretRef({self.name!r})"

    def get(self) -> str:
        """The secret's value (raises ``ConfigError`` naming the secret if it is not set)."""
        return resolve_secret(self.name)


def referenced_secrets(*objects: Any) -> set[str]:
    """Names of the secrets ``objects`` refer to: SecretRefs among them, in their attributes
    (resources, IO managers) and in the lists, tuples, sets and dicts those hold."""
    names: set[str] = set()
    seen: set[int] = set()
    todo = list(objects)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | type | types.ModuleType):
            continue
        seen.add(id(obj))
        if isinstance(obj, SecretRef):
            names.add(obj.name)
        elif isinstance(obj, Mapping):
            todo.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            todo.extend(obj)
        elif len(seen) < 10_000:  # an object's own fields; a huge client object is not walked
            todo.extend(getattr(obj, "__dict__", {}).values())
    return names


@dataclass_transform(kw_only_default=True)
class Resource:
    """Base class for configured clients injected into steps.

    Subclasses declare typed fields; they become keyword-only dataclass fields. A step receives a
    resource when it has a parameter named like the resource, or annotated with its class.
    ``setup()`` runs once per worker process before first use and ``teardown()`` at the end.

    Example:
        >>> class Warehouse(Resource):
        ...     url: str
        ...     pool_size: int = 4
        >>> warehouse = Warehouse(url="postgresql://localhost/db")
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(kw_only=True)(cls)

    def setup(self) -> None:
        """Open connections; called once per worker process before the first step uses it."""

    def teardown(self) -> None:
        """Close what setup() opened."""

    @classmethod
    def from_config(
        cls, values: Mapping[str, Any], *, source: str, base: Resource | None = None
    ) -> Self:
        """Build from config values (strings from the environment are converted to field types).

        Fields absent from ``values`` keep the value of ``base`` or the field default.
        """
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(
                f"resource {cls.__name__} ({source}) has no field(s) {unknown}",
                obj=cls.__name__,
                source=source,
                hint=f"its fields are {sorted(fields)}",
            )
        kwargs: dict[str, Any] = {}
        if base is not None:
            kwargs = {name: getattr(base, name) for name in fields}
        for name, raw in values.items():
            kwargs[name] = _coerce(raw, hints.get(name, Any), f"{cls.__name__}.{name}", source)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(
                f"resource {cls.__name__} ({source}): {exc}",
                obj=cls.__name__,
                source=source,
                hint="set every required field in the config",
            ) from None


def _coerce(raw: Any, hint: Any, what: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw is None or (
            isinstance(raw, str) and raw == "" and len(args) < len(typing.get_args(hint))
        ):
            return None
        hint = args[0] if len(args) == 1 else Any
    if hint in (Any, object) or (
        isinstance(hint, type)
        and isinstance(raw, hint)
        and not (hint is int and isinstance(raw, bool))
    ):
        return raw
    try:
        if hint is bool and isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if hint in (int, float, str, Path):
            return hint(raw)
        if hint is SecretRef and isinstance(raw, str):
            return SecretRef(raw)
    except (TypeError, ValueError):
        pass
    name = getattr(hint, "__name__", str(hint))
    raise ConfigError(
        f"config value {raw!r} for {what} ({source}) is not a {name}",
        obj=what,
        source=source,
        hint=f"set it to a valid {name}",
    )
