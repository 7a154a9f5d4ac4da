"""StepDef: what ``@asset`` and ``@task`` produce. Both are nodes of one graph."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from legato.definitions.contracts import TableContract, as_table_contract
from legato.definitions.freshness import Freshness, check_freshness
from legato.definitions.keys import validate_key
from legato.definitions.labels import check_names, check_tags, check_text
from legato.definitions.partitions import PartitionMapping, PartitionSpace
from legato.definitions.policies import Retry
from legato.errors import DefinitionError, where

if TYPE_CHECKING:
    from legato.definitions.checks import CheckInfo

StepKind = Literal["asset", "task", "check"]
CONTEXT_PARAM = "context"


@dataclass(frozen=True)
class Dep:
    """An explicit dependency on an asset or task, with an optional partition mapping."""

    key: str
    mapping: Any = None

    def __post_init__(self) -> None:
        validate_key(self.key, what="dependency")


@dataclass(frozen=True)
class Param:
    """One parameter of a step function, as declared; its role is resolved when the graph builds."""

    name: str
    annotation: Any
    has_default: bool
    default: Any = None


@dataclass(frozen=True, eq=False)
class StepDef:
    """A declared asset or task. Call it like the function it wraps (handy in unit tests)."""

    kind: StepKind
    key: str
    fn: Callable[..., Any]
    params: tuple[Param, ...]
    ins: Mapping[str, Dep] = field(default_factory=dict)
    deps: tuple[Dep, ...] = ()
    group: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    owners: tuple[str, ...] = ()
    retries: Retry | None = None
    timeout: float | None = None
    map_over: str | None = None
    partitions: PartitionSpace | None = None
    io_manager: str | None = None
    pool: str | None = None
    single_run: bool = False  # one step processes every partition key of a run at once
    triggers: tuple[Any, ...] = ()  # an asset's own triggers make a one-asset pipeline
    freshness: Freshness | None = None  # how recent its latest materialization must be
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    contract: TableContract | None = None  # the table it returns (a value's is its annotation)
    external: str | None = None  # produced by another project ("": any), never run here
    check: CheckInfo | None = None  # a check: what it checks and how
    checks: tuple[StepDef, ...] = ()  # an asset's own checks (``@asset(checks=[...])``)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    @property
    def name(self) -> str:
        """The last segment of the key: what a downstream parameter is usually called."""
        return self.key.rsplit(".", 1)[-1]

    def __repr__(self) -> str:
        return f"<{self.kind} {self.key!r}{' at ' + self.source if self.source else ''}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A module-level definition travels to worker processes by reference (module + name);
        # others (made in a function) travel by value, their function pickled by cloudpickle.
        module = sys.modules.get(getattr(self.fn, "__module__", "") or "")
        name = getattr(self.fn, "__qualname__", "")
        if (
            module is not None
            and module.__name__ != "__main__"
            and "." not in name
            and getattr(module, name, None) is self
        ):
            return (_import_step, (module.__name__, name))
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return (_rebuild_step, (fields,))


def _import_step(module: str, name: str) -> StepDef:
    step = getattr(importlib.import_module(module), name)
    if not isinstance(step, StepDef):
        raise TypeError(f"{module}.{name} is no longer a step definition")
    return step


def _rebuild_step(fields: dict[str, Any]) -> StepDef:
    return StepDef(**fields)


# Every decorated definition, weakly held: definitions made inside a test function disappear with it.
_REGISTRY: weakref.WeakSet[StepDef] = weakref.WeakSet()


def registered_steps() -> list[StepDef]:
    """Definitions alive in this process, in no particular order."""
    return list(_REGISTRY)


def _signature(fn: Callable[..., Any], what: str, source: str | None) -> tuple[Param, ...]:
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError, SyntaxError):
        sig = inspect.signature(fn)
    params = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(
                f"{what} ({source}) takes *{p.name}; its inputs cannot be inferred",
                obj=what,
                source=source,
                hint="name each upstream as a parameter, or list order-only dependencies in deps=",
            )
        if p.kind is p.POSITIONAL_ONLY:
            raise DefinitionError(
                f"{what} ({source}) has a positional-only parameter {p.name!r}",
                obj=what,
                source=source,
                hint="remove the '/' from the signature",
            )
        has_default = p.default is not p.empty
        params.append(
            Param(
                p.name,
                None if p.annotation is p.empty else p.annotation,
                has_default,
                p.default if has_default else None,
            )
        )
    return tuple(params)


def _as_deps(items: Iterable[str | Dep] | None, what: str) -> tuple[Dep, ...]:
    out = []
    for item in items or ():
        if isinstance(item, Dep):
            out.append(item)
        elif isinstance(item, StepDef):
            out.append(Dep(item.key))
        elif isinstance(item, str):
            out.append(Dep(item))
        else:
            raise DefinitionError(
                f"{what}: deps entry {item!r} is not a key",
                hint="pass asset keys as strings, Dep(...) or the decorated function",
            )
    return tuple(out)


def make_step(
    kind: StepKind,
    fn: Callable[..., Any],
    *,
    key: str | None,
    ins: Mapping[str, str | Dep] | None,
    deps: Iterable[str | Dep] | None,
    group: str | None,
    tags: Mapping[str, str] | None,
    description: str | None,
    owners: Iterable[str] | None,
    retries: Retry | int | None,
    timeout: float | None,
    map_over: str | None,
    partitions: Any,
    io_manager: str | None,
    pool: str | None,
    metadata: Mapping[str, Any] | None,
    single_run: bool = False,
    triggers: Iterable[Any] = (),
    freshness: Any = None,
    contract: Any = None,
) -> StepDef:
    """Validate the decorator's arguments and build the StepDef (shared by @asset and @task)."""
    if not callable(fn):
        raise DefinitionError(f"@{kind} decorates functions, got {fn!r}")
    source = where(fn)
    name: str = key or str(getattr(fn, "__name__", ""))
    what = f"{kind} {name!r}"
    validate_key(name, what=f"{kind} key", source=source)
    if group is not None:
        validate_key(group, what=f"{what} group", source=source)
    if isinstance(retries, int) and not isinstance(retries, bool):
        retries = Retry(retries)
    if retries is not None and not isinstance(retries, Retry):
        raise DefinitionError(
            f"{what} ({source}): retries={retries!r} is not a policy",
            hint="pass retries=Retry(3, delay=1.0) or a number of retries",
        )
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise DefinitionError(
            f"{what} ({source}): timeout={timeout!r} is invalid",
            hint="pass a number of seconds > 0, or leave it out",
        )
    if partitions is not None and not isinstance(partitions, PartitionSpace):
        raise DefinitionError(
            f"{what} ({source}): partitions={partitions!r} is not a partition space",
            obj=name,
            source=source,
            hint="pass DailyPartitions(...), StaticPartitions([...]), DynamicPartitions(name) "
            "or a product of them (a * b)",
        )
    for dep in (*(ins or {}).values(), *(deps or ())):
        mapping = getattr(dep, "mapping", None)
        if mapping is not None and not isinstance(mapping, PartitionMapping):
            raise DefinitionError(
                f"{what} ({source}): mapping={mapping!r} on {dep} is not a partition mapping",
                obj=name,
                source=source,
                hint="pass Identity(), TimeWindow(...), RollUp(), FanOut(), Dimension(...), "
                "StaticMap({...}) or AllPartitions()",
            )
    if single_run and partitions is None:
        raise DefinitionError(
            f"{what} ({source}): single_run needs partitions",
            obj=name,
            source=source,
            hint="single_run=True lets one step process many partition keys; give partitions=",
        )
    checked_freshness = check_freshness(freshness, f"{what} ({source})")
    check_text(description, "description", what, source)
    params = _signature(fn, what, source)
    names = {p.name for p in params}
    in_deps = {}
    for param, dep in (ins or {}).items():
        if param not in names:
            raise DefinitionError(
                f"{what} ({source}): ins names {param!r}, which is not a parameter",
                hint=f"parameters are {sorted(names)}",
            )
        in_deps[param] = dep if isinstance(dep, Dep) else Dep(dep)
    if map_over is not None and map_over not in names:
        raise DefinitionError(
            f"{what} ({source}): map_over={map_over!r} is not a parameter",
            hint=f"name the parameter that receives one item; parameters are {sorted(names)}",
        )
    step = StepDef(
        kind=kind,
        key=name,
        fn=fn,
        params=params,
        ins=in_deps,
        deps=_as_deps(deps, what),
        group=group,
        tags=check_tags(tags, what, source),
        description=description if description is not None else inspect.getdoc(fn),
        owners=check_names(owners, "owners", what, source),
        retries=retries,
        timeout=float(timeout) if timeout else None,
        map_over=map_over,
        partitions=partitions,
        io_manager=check_text(io_manager, "io_manager", what, source),
        pool=check_text(pool, "pool", what, source),
        single_run=single_run,
        triggers=tuple(triggers),
        freshness=checked_freshness,
        metadata=dict(metadata or {}),
        source=source,
        contract=as_table_contract(contract, what, source),
    )
    _REGISTRY.add(step)
    return step
