"""``@task``: a unit of work with a result but no persistent product (the verb beside the noun)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

from legato.definitions.contracts import TableContract
from legato.definitions.policies import Retry
from legato.definitions.step import Dep, StepDef, make_step


@overload
def task(fn: Callable[..., Any], /) -> StepDef: ...


@overload
def task(
    *,
    key: str | None = None,
    group: str | None = None,
    deps: Iterable[str | Dep] | None = None,
    ins: Mapping[str, str | Dep] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    retries: Retry | int | None = None,
    timeout: float | None = None,
    map_over: str | None = None,
    partitions: Any = None,
    pool: str | None = None,
    contract: TableContract | Any = None,
) -> Callable[[Callable[..., Any]], StepDef]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    key: str | None = None,
    group: str | None = None,
    deps: Iterable[str | Dep] | None = None,
    ins: Mapping[str, str | Dep] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    retries: Retry | int | None = None,
    timeout: float | None = None,
    map_over: str | None = None,
    partitions: Any = None,
    pool: str | None = None,
    contract: TableContract | Any = None,
) -> StepDef | Callable[[Callable[..., Any]], StepDef]:
    """Declare a task: work whose result feeds downstream steps but is not a persistent product.

    Args:
        map_over: a parameter whose upstream returns a list; the task then runs once per item
            (each item a real step with its own state, retries and logs), and downstream steps
            receive the list of results in order.

    Other arguments are as for :func:`legato.asset`.

    Example:
        >>> @task(map_over="files")
        ... def parse(files: str) -> int: ...
    """

    def decorate(f: Callable[..., Any]) -> StepDef:
        return make_step(
            "task",
            f,
            key=key,
            ins=ins,
            deps=deps,
            group=group,
            tags=tags,
            description=description,
            owners=None,
            retries=retries,
            timeout=timeout,
            map_over=map_over,
            partitions=partitions,
            io_manager=None,
            pool=pool,
            metadata=None,
            contract=contract,
        )

    return decorate(fn) if fn is not None else decorate
