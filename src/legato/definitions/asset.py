"""``@asset``: a named, persistent data product whose parameters name its upstream assets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from legato.definitions.checks import attach_checks
from legato.definitions.contracts import TableContract
from legato.definitions.freshness import Freshness
from legato.definitions.policies import Retry
from legato.definitions.step import Dep, StepDef, make_step


@overload
def asset(fn: Callable[..., Any], /) -> StepDef: ...


@overload
def asset(
    *,
    key: str | None = None,
    group: str | None = None,
    deps: Iterable[str | Dep] | None = None,
    ins: Mapping[str, str | Dep] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    owners: Iterable[str] | None = None,
    retries: Retry | int | None = None,
    timeout: float | None = None,
    partitions: Any = None,
    io_manager: str | None = None,
    pool: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    single_run: bool = False,
    triggers: Iterable[Any] = (),
    freshness: Freshness | None = None,
    checks: Iterable[Any] = (),
    contract: TableContract | Any = None,
) -> Callable[[Callable[..., Any]], StepDef]: ...


def asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    key: str | None = None,
    group: str | None = None,
    deps: Iterable[str | Dep] | None = None,
    ins: Mapping[str, str | Dep] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    owners: Iterable[str] | None = None,
    retries: Retry | int | None = None,
    timeout: float | None = None,
    partitions: Any = None,
    io_manager: str | None = None,
    pool: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    single_run: bool = False,
    triggers: Iterable[Any] = (),
    freshness: Freshness | None = None,
    checks: Iterable[Any] = (),
    contract: TableContract | Any = None,
) -> StepDef | Callable[[Callable[..., Any]], StepDef]:
    """Declare an asset: the function computes it, its return value is stored by the IO manager.

    Each parameter names an upstream asset or task (by key, or by the key's last segment), a
    resource, or ``context``. Parameters with defaults that name nothing keep their defaults.

    Args:
        key: the asset key (default: the function name); dotted segments group it (``sales.orders``).
        group: a group name for selection (``group:sales``).
        deps: upstreams that must run first but whose values are not passed in.
        ins: explicit parameter → upstream key (or ``Dep(key, mapping=...)``) assignments.
        retries: a ``Retry`` policy, or a number of retries.
        timeout: seconds after which the attempt is stopped and failed.
        partitions: the partition space the asset is split into.
        io_manager: name of the resource that stores and loads this asset's values.
        single_run: in a run over many partition keys (a backfill with ``--single-run``, or
            ``legato run --from A --to B``), one step processes them all: it gets
            ``context.partition_keys`` and returns ``{key: value}``.
        triggers: what materializes this asset on its own, e.g. ``[OnUpdate()]`` or
            ``[Cron("0 2 * * *")]`` (a one-asset pipeline named after the asset).
        freshness: how recent its latest materialization must be, e.g.
            ``Freshness(max_lag="2h")``; the daemon records each miss and recovery.
        checks: data-quality checks run right after each materialization: functions of the
            value, ``@check()`` specs, or built-ins such as ``checks.not_null("id")``.
        contract: the columns of the table it returns, ``TableContract({"id": "int64"})`` or a
            ``pyarrow.Schema``; checked before the value is stored, and against what each
            consumer ``Needs`` when the project loads. A value's contract is its return
            annotation (``-> list[int]``), checked the same way.

    Example:
        >>> @asset(group="sales", retries=Retry(3, delay=1.0))
        ... def clean_orders(raw_orders: list[dict]) -> list[dict]:
        ...     return [o for o in raw_orders if o["amount"] > 0]
    """

    def decorate(f: Callable[..., Any]) -> StepDef:
        step = make_step(
            "asset",
            f,
            key=key,
            ins=ins,
            deps=deps,
            group=group,
            tags=tags,
            description=description,
            owners=owners,
            retries=retries,
            timeout=timeout,
            map_over=None,
            partitions=partitions,
            io_manager=io_manager,
            pool=pool,
            metadata=metadata,
            single_run=single_run,
            triggers=triggers,
            freshness=freshness,
            contract=contract,
        )
        return attach_checks(step, checks)

    return decorate(fn) if fn is not None else decorate
