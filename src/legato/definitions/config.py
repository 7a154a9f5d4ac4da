"""Config models: a step parameter typed as a msgspec ``Struct`` or a Pydantic ``BaseModel`` is that
step's config. The run's config holds it under the step's key; it is checked against the model's
JSON Schema when the run is requested, and the step receives the model instance.

Both libraries are supported because each is one small adapter here (detect, describe, build):
msgspec is already Legato's own dependency, and Pydantic is what many teams' models are written in.
Neither is imported by this module: a class of either can only exist once its library is loaded.
"""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Mapping
from typing import Any, Literal

from legato.errors import ConfigError

ModelKind = Literal["msgspec", "pydantic"]


def model_kind(annotation: Any) -> ModelKind | None:
    """Which library ``annotation`` is a config model of, or None if it is not one."""
    if not isinstance(annotation, type):
        return None
    msgspec = sys.modules.get("msgspec")
    if msgspec is not None and issubclass(annotation, msgspec.Struct):
        return "msgspec"
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(annotation, pydantic.BaseModel):
        return "pydantic"
    return None


@functools.lru_cache(maxsize=1024)
def _schema(model: type) -> dict[str, Any]:
    kind = model_kind(model)
    if kind == "msgspec":
        raw: dict[str, Any] = sys.modules["msgspec"].json.schema(model)
    elif kind == "pydantic":
        raw = model.model_json_schema()  # type: ignore[attr-defined]
    else:
        raise TypeError(f"{model!r} is not a msgspec Struct or a Pydantic model")
    defs = dict(raw.pop("$defs", {}))
    ref = raw.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):  # msgspec: the model is a $def
        raw = dict(defs[ref.removeprefix("#/$defs/")])
    if defs:
        raw["$defs"] = defs
    _close(raw)
    return raw


def config_schema(model: type) -> dict[str, Any]:
    """The JSON Schema of ``model``, self-contained (its ``$defs`` inside), and closed: keys the
    model does not declare are refused, whatever the model's own setting for extra keys."""
    return copy.deepcopy(_schema(model))


def _close(schema: Any) -> None:
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            _close(value)
    elif isinstance(schema, list):
        for value in schema:
            _close(value)


def build_config(model: type, data: Any, *, step: str) -> Any:
    """The instance of ``model`` for ``data`` (the step's part of the run config)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"step {step!r}: its config must be an object, not {type(data).__name__}",
            obj=step,
            hint=f'give it as {{"{step}": {{...}}}} in the run config',
        )
    try:
        if model_kind(model) == "msgspec":
            return sys.modules["msgspec"].convert(dict(data), model)
        return model.model_validate(dict(data))  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:  # both libraries' validation errors are ValueErrors
        raise ConfigError(
            f"step {step!r}: its config does not fit {model.__name__}: {exc}",
            obj=step,
            hint="the definitions changed since the run was requested, or the model's own "
            "validators refused the values; launch the run again with a config that fits",
        ) from None
