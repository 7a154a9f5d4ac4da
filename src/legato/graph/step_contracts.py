"""A step's contract, read from its annotations: what it returns (``-> list[int]``, plus a
``TableContract`` for a table) and what each upstream parameter expects (plus ``Needs``)."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.definitions.contracts import Needs, TableContract
from legato.definitions.step import StepDef
from legato.graph.shapes import ANY, Shape, shape_of

NO_ANNOTATION: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class Expects:
    """What a consumer's parameter expects: a shape and, for a table, the columns it needs."""

    shape: Shape = field(default_factory=lambda: ANY)
    needs: Needs | None = None


@dataclass(frozen=True)
class StepContract:
    """A step's side of its hand-offs. ``returns`` is the resolved return annotation
    (``NO_ANNOTATION`` if there is none): what its value is validated against at run time."""

    returns: Any = NO_ANNOTATION
    output: Shape = field(default_factory=lambda: ANY)
    table: TableContract | None = None
    inputs: Mapping[str, Expects] = field(default_factory=dict)

    @property
    def checked(self) -> bool:
        """Whether a value of this step is validated before it is stored."""
        return self.table is not None or self.output["kind"] != "any"


def step_contract(step: StepDef, inputs: Mapping[str, str]) -> StepContract:
    """The contract of ``step`` from its annotations; ``inputs`` are its upstream parameters."""
    hints = _hints(step.fn)
    returns = hints.get("return", NO_ANNOTATION)
    table = step.contract or _metadata(returns, TableContract, exact=True)
    output = ANY if returns is NO_ANNOTATION else shape_of(_bare(returns))
    expects = {}
    for param in inputs:
        annotation = hints.get(param, NO_ANNOTATION)
        if annotation is not NO_ANNOTATION:
            needs = _metadata(annotation, Needs, exact=False)
            expects[param] = Expects(shape_of(_bare(annotation)), needs)
    return StepContract(returns, output, table, expects)


def _hints(fn: Any) -> dict[str, Any]:
    """The function's annotations, resolved (``from __future__ import annotations`` leaves them
    as text); one that does not resolve (a name imported only under TYPE_CHECKING) is left out:
    nothing is known about it."""
    raw = getattr(fn, "__annotations__", None)
    if not isinstance(raw, dict):
        return {}
    namespace = getattr(fn, "__globals__", {})
    out = {}
    for name, value in raw.items():
        if not isinstance(value, str):
            out[name] = value
            continue
        try:
            out[name] = eval(_compiled(value), namespace)  # noqa: S307 - the user's own annotation
        except Exception:  # noqa: S112 - any error in an annotation means "unknown"
            continue
    return out


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> types.CodeType:
    """One compilation per annotation text: a project repeats the same few many times."""
    return compile(text, "<annotation>", "eval")


def _bare(annotation: Any) -> Any:
    """The annotation without Legato's own ``Annotated`` metadata (msgspec's ``Meta`` stays)."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation
    base, *extras = typing.get_args(annotation)
    kept = [x for x in extras if not isinstance(x, TableContract)]
    return typing.Annotated[(base, *kept)] if kept else base


def _metadata(annotation: Any, kind: type[TableContract], *, exact: bool) -> Any:
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    for extra in typing.get_args(annotation)[1:]:
        if type(extra) is kind or (not exact and isinstance(extra, kind)):
            return extra
    return None
