"""``external_asset``: an asset another project produces, which this project reads.

Projects that share a store share one lineage: an asset key is the same asset in every project.
A project names another's asset by declaring it here, under the key it has there::

    orders = lg.external_asset("orders", project="sales")

    @lg.asset
    def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float: ...

It is a node of this project's graph that is never run here: a step that reads it loads its
latest stored value through its IO manager, like any upstream asset outside a run. Its producer's
contract is compared with what this project's consumers expect of it by ``legato check`` and the
daemon, from the producer's definitions recorded in the store.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from legato.definitions.keys import validate_key
from legato.definitions.labels import check_text
from legato.definitions.partitions import PartitionSpace
from legato.definitions.step import StepDef
from legato.errors import DefinitionError


def external_asset(
    key: str,
    *,
    project: str | None = None,
    partitions: PartitionSpace | None = None,
    io_manager: str | None = None,
    group: str | None = None,
    description: str | None = None,
) -> StepDef:
    """Declare an asset produced by another project that shares this project's store.

    Args:
        key: the asset's key in the project that produces it.
        project: that project's ``name`` (its ``legato.toml``); default: whichever project
            records an asset of this key.
        partitions: its partition space, for the partition mappings of the steps that read it.
        io_manager: the resource that loads its values (one both projects reach: a warehouse,
            a shared storage directory).
        group: a group name for selection (``group:upstream``).
        description: shown in the UI.

    Example:
        >>> orders = external_asset("orders", project="sales")
    """
    frame = sys._getframe(1)
    source = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    what = f"external asset {key!r} ({source})"
    validate_key(key, what="external asset key", source=source)
    if project is not None and (not isinstance(project, str) or not project):
        raise DefinitionError(
            f"{what}: project={project!r} is not a project name",
            obj=key,
            source=source,
            hint='name the project that produces it (its legato.toml name = "..."), or leave '
            "project out",
        )
    if partitions is not None and not isinstance(partitions, PartitionSpace):
        raise DefinitionError(
            f"{what}: partitions={partitions!r} is not a partition space",
            obj=key,
            source=source,
            hint="pass the partition space it has in the project that produces it",
        )
    if group is not None:
        validate_key(group, what=f"{what} group", source=source)
    named = f"external asset {key!r}"
    return StepDef(
        kind="asset",
        key=key,
        fn=_produced_elsewhere,
        params=(),
        group=group,
        description=check_text(description, "description", named, source),
        partitions=partitions,
        io_manager=check_text(io_manager, "io_manager", named, source),
        source=source,
        external=project or "",
    )


def _produced_elsewhere(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise DefinitionError(
        "an external asset is produced by another project and is never run here",
        hint="run it in the project that defines it; here, its stored value is read",
    )
