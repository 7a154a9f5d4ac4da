"""Checks: data-quality assertions on an asset, run as steps right after its materialization.

A check is a function of the asset's value (and optionally ``context``) that returns a
:class:`CheckResult` or a bool. It becomes a node of the graph keyed ``<asset>:check:<name>``;
whenever the asset is materialized in a run, its checks run in that run, and a failing
*blocking* check stops the asset's downstream steps. Declare one with ``@check(asset=...)``, or
give an asset its checks with ``@asset(checks=[...])`` (functions, ``@check()`` specs or the
built-ins in ``legato.checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, overload

from legato._internal.metadata import clean_metadata
from legato.definitions.keys import validate_key
from legato.definitions.labels import check_text
from legato.definitions.step import (
    _REGISTRY,
    CONTEXT_PARAM,
    Dep,
    StepDef,
    _signature,
)
from legato.errors import DefinitionError, where

Severity = Literal["error", "warn"]
SEVERITIES = ("error", "warn")
CHECK_SEPARATOR = ":check:"
CHECK_FAILED = "legato.CheckFailed"  # the error type of a blocking check that failed
# A step that would read a stored value that failed a blocking check fails with this error type,
# unless its run has this tag set to "true".
UNTRUSTED_INPUT = "legato.UntrustedInput"
ALLOW_UNTRUSTED_TAG = "legato/allow_untrusted"


@dataclass(frozen=True)
class CheckResult:
    """What a check found.

    Args:
        passed: whether the asset's value is as expected.
        severity: how much a failure matters: ``"error"`` (a blocking check then stops the
            asset's downstream steps) or ``"warn"`` (recorded, never blocks).
        metadata: numbers and facts to record with the result (e.g. ``{"nulls": 3}``).
        description: one line saying what was checked, shown with the result.
    """

    passed: bool
    severity: Severity = "error"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.passed, bool):
            raise TypeError(f"CheckResult(passed={self.passed!r}): passed must be True or False")
        _check_severity(self.severity, "CheckResult")
        object.__setattr__(self, "metadata", clean_metadata(self.metadata, what="CheckResult"))

    @property
    def outcome(self) -> str:
        """``"pass"``, ``"warn"`` (failed with severity warn) or ``"fail"``."""
        return "pass" if self.passed else ("fail" if self.severity == "error" else "warn")


@dataclass(frozen=True)
class CheckInfo:
    """What a check step checks: its asset, its name, and whether a failure blocks downstream."""

    asset: str
    name: str
    blocking: bool = False
    severity: Severity = "error"  # of a failure when the function returns False


@dataclass(frozen=True)
class CheckSpec:
    """A check not yet bound to an asset: what ``@asset(checks=[...])`` takes."""

    name: str
    fn: Callable[..., Any]
    blocking: bool = False
    severity: Severity = "error"
    description: str | None = None
    source: str | None = None  # where it was declared, for messages


def _check_severity(severity: object, what: str) -> None:
    if severity not in SEVERITIES:
        raise DefinitionError(
            f"{what}: severity={severity!r} is not a severity",
            hint='use severity="error" (blocks when blocking) or severity="warn"',
        )


def check_key(asset: str, name: str) -> str:
    return f"{asset}{CHECK_SEPARATOR}{name}"


def check_spec(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    blocking: bool = False,
    severity: Severity = "error",
    description: str | None = None,
    source: str | None = None,
) -> CheckSpec:
    """Validate a check's options; the spec still needs an asset (see :func:`bind_check`)."""
    if not callable(fn):
        raise DefinitionError(f"@check decorates functions, got {fn!r}")
    source = source or where(fn)
    name = name or str(getattr(fn, "__name__", ""))
    validate_key(name, what="check name", source=source)
    if "." in name:
        raise DefinitionError(
            f"check name {name!r} ({source}) has a dot",
            obj=name,
            source=source,
            hint="name a check with one segment, e.g. 'no_null_ids'",
        )
    if not isinstance(blocking, bool):
        raise DefinitionError(
            f"check {name!r} ({source}): blocking={blocking!r} must be True or False",
            obj=name,
            source=source,
        )
    _check_severity(severity, f"check {name!r} ({source})")
    check_text(description, "description", f"check {name!r}", source)
    doc = description if description is not None else (fn.__doc__ or "").strip() or None
    return CheckSpec(name, fn, blocking, severity, doc, source)


def bind_check(spec: CheckSpec | Callable[..., Any], asset: str | StepDef) -> StepDef:
    """The check step of ``spec`` on ``asset``: its first parameter receives the asset's value."""
    if not isinstance(spec, CheckSpec):
        spec = check_spec(spec)
    if isinstance(asset, StepDef):
        asset = asset.key
    source = spec.source or where(spec.fn)
    validate_key(asset, what="checked asset key", source=source)
    key = check_key(asset, spec.name)
    what = f"check {key!r}"
    params = _signature(spec.fn, what, source)
    values = [p for p in params if p.name != CONTEXT_PARAM]
    if not values:
        raise DefinitionError(
            f"{what} ({source}) takes no parameter for the value of {asset!r}",
            obj=key,
            source=source,
            hint="give the function a first parameter, e.g. def check(orders): ...",
        )
    step = StepDef(
        kind="check",
        key=key,
        fn=spec.fn,
        params=params,
        ins={values[0].name: Dep(asset)},
        description=spec.description,
        source=source,
        check=CheckInfo(asset, spec.name, spec.blocking, spec.severity),
    )
    _REGISTRY.add(step)
    return step


def attach_checks(asset: StepDef, checks: Iterable[Any]) -> StepDef:
    """``asset`` with its own checks (``@asset(checks=[...])``), each bound to it."""
    bound = []
    for item in checks:
        if isinstance(item, StepDef):
            raise DefinitionError(
                f"asset {asset.key!r} ({asset.source}): checks=[{item.key!r}] is already a step",
                obj=asset.key,
                source=asset.source,
                hint="pass functions, @lg.check() without asset=, or built-ins like "
                "lg.checks.not_null('id')",
            )
        if not isinstance(item, CheckSpec) and not callable(item):
            raise DefinitionError(
                f"asset {asset.key!r} ({asset.source}): checks entry {item!r} is not a check",
                obj=asset.key,
                source=asset.source,
                hint="pass functions, @lg.check() specs or lg.checks built-ins",
            )
        bound.append(bind_check(item, asset.key))
    names = [b.check.name for b in bound if b.check is not None]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise DefinitionError(
            f"asset {asset.key!r} ({asset.source}) has two checks called {doubled[0]!r}",
            obj=asset.key,
            source=asset.source,
            hint="give one of them name=...",
        )
    if not bound:
        return asset
    with_checks = replace(asset, checks=tuple(bound))
    _REGISTRY.discard(asset)
    _REGISTRY.add(with_checks)
    return with_checks


@overload
def check(fn: Callable[..., Any], /) -> CheckSpec: ...


@overload
def check(
    *,
    asset: str | StepDef,
    name: str | None = None,
    blocking: bool = False,
    severity: Severity = "error",
    description: str | None = None,
) -> Callable[[Callable[..., Any]], StepDef]: ...


@overload
def check(
    *,
    name: str | None = None,
    blocking: bool = False,
    severity: Severity = "error",
    description: str | None = None,
) -> Callable[[Callable[..., Any]], CheckSpec]: ...


def check(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    asset: str | StepDef | None = None,
    name: str | None = None,
    blocking: bool = False,
    severity: Severity = "error",
    description: str | None = None,
) -> Any:
    """Declare a check: a function of an asset's value returning a ``CheckResult`` or a bool.

    With ``asset=`` it is a step of the project (keyed ``<asset>:check:<name>``); without, a spec
    to give to ``@asset(checks=[...])``.

    Args:
        asset: the asset (key or definition) whose value the first parameter receives.
        name: the check's name (default: the function's name).
        blocking: when it fails with severity ``"error"``, the asset's downstream steps in the
            run are skipped and the materialization is marked as not trusted: ``OnUpdate``
            does not fire on it and later runs do not read it (unless tagged
            ``legato/allow_untrusted=true``).
        severity: the severity of a failure when the function returns ``False``.

    Example:
        >>> @check(asset="orders", blocking=True)
        ... def no_negative_amounts(orders: list[dict]) -> CheckResult:
        ...     bad = sum(1 for o in orders if o["amount"] < 0)
        ...     return CheckResult(passed=bad == 0, metadata={"negative": bad})
    """

    def decorate(f: Callable[..., Any]) -> Any:
        spec = check_spec(
            f, name=name, blocking=blocking, severity=severity, description=description
        )
        return spec if asset is None else bind_check(spec, asset)

    return decorate(fn) if fn is not None else decorate


def check_outcome(key: str, info: CheckInfo, value: Any) -> dict[str, Any]:
    """What a check function returned, as the result recorded with the materialization."""
    if isinstance(value, bool):
        value = CheckResult(value, info.severity)
    if not isinstance(value, CheckResult):
        raise TypeError(
            f"check {key!r} returned {type(value).__name__}; return lg.CheckResult(passed=...) "
            "or a bool"
        )
    return {
        "outcome": value.outcome,
        "passed": value.passed,
        "severity": value.severity,
        "metadata": dict(value.metadata),
        "description": value.description,
    }
