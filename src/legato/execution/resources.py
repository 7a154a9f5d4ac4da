"""WorkerEnv: what a process needs to run steps — the graph, IO managers, resources, a value cache."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeGuard

from legato._internal.secrets import remember_names
from legato.definitions.io import DEFAULT_IO, IOContext, IOManager
from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.definitions.resources import Resource
from legato.errors import ConfigError, NotFoundError
from legato.execution.contracts import validate_output
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.spec import InputRef, StepSpec
from legato.graph.build import build_graph
from legato.graph.graph import Graph


class WorkerEnv:
    """Per-process state for running steps. Resources are set up on first use, torn down on close.

    ``keep_values`` keeps every output in memory (in-process executors: downstream steps read them
    without touching storage); otherwise a small cache serves repeated loads (mapped items).
    """

    def __init__(
        self,
        project: Project,
        io_manager: IOManager,
        *,
        keep_values: bool = False,
        graph: Graph | None = None,
    ) -> None:
        remember_names(project.secret_names())  # masked here even if no step here resolves them
        self.project = project
        self.graph = graph if graph is not None else build_graph(project)
        self.default_io = io_manager
        self.keep_values = keep_values
        self._values: OrderedDict[tuple[str, str, str | None], Any] = OrderedDict()
        self._ready: dict[str, Any] = {}

    def io_for(self, asset_key: str | None) -> IOManager:
        if asset_key is None:
            return self.default_io
        name = self.graph[asset_key].step.io_manager
        if name is None:
            default: IOManager = self.project.io_managers.get(DEFAULT_IO, self.default_io)
            return default
        manager: Any = self.project.io_managers.get(name) or self.project.resources.get(name)
        if manager is None:
            raise ConfigError(
                f"asset {asset_key!r} uses io_manager {name!r}, which is not defined",
                obj=asset_key,
                hint=f"define an IO manager named {name!r} in the project",
            )
        if not isinstance(manager, IOManager):
            raise ConfigError(
                f"{name!r} (io_manager of asset {asset_key!r}) has no store/load/exists",
                obj=name,
                hint="implement the IOManager protocol",
            )
        return manager

    def load_input(self, ref: InputRef) -> Any:
        if ref.partitions is not None:
            return self._load_partitions(ref)
        if ref.item_runs is not None:
            return [
                self._load(InputRef(run, ref.step._replace(map_index=i)))
                for i, run in enumerate(ref.item_runs)
            ]
        value = self._load(ref)
        return value[ref.item] if ref.item >= 0 else value

    def _load_partitions(self, ref: InputRef) -> dict[str, Any]:
        assert ref.partitions is not None
        values: dict[str, Any] = {}
        missing: list[str] = []
        runs = ref.partition_runs or (ref.run_id,) * len(ref.partitions)
        needed = len(ref.partitions) if ref.required is None else ref.required
        for index, (key, run) in enumerate(zip(ref.partitions, runs, strict=True)):
            try:
                values[key] = self._load(
                    InputRef(run, ref.step._replace(partition=key), ref.asset_key)
                )
            except LookupError:
                if index < needed:  # an optional key without a value is simply not read
                    missing.append(key)
        if missing and (ref.min_count is None or len(values) < ref.min_count):
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            need = "all" if ref.min_count is None else f"at least {ref.min_count}"
            raise NotFoundError(
                f"upstream {ref.step.node!r} has no value for partition(s) {shown} "
                f"({len(values)} of {len(ref.partitions)} present, {need} needed)",
                obj=ref.step.node,
                hint=f"materialize them first: legato run {ref.step.node} --partition KEY "
                "(or a backfill)",
            )
        return values

    def _load(self, ref: InputRef) -> Any:
        slot = (ref.run_id, str(ref.step), ref.asset_key)
        if slot in self._values:
            self._values.move_to_end(slot)
            return self._values[slot]
        context = IOContext(ref.step, ref.run_id, ref.asset_key)
        value = self.io_for(ref.asset_key).load(context)
        self._remember(slot, value)
        return value

    def _remember(self, slot: tuple[str, str, str | None], value: Any) -> None:
        self._values[slot] = value
        if not self.keep_values and len(self._values) > 4:
            self._values.popitem(last=False)

    def store_output(self, spec: StepSpec, kind: str, value: Any) -> dict[str, Any]:
        """Check a step's value against its contract, then store it (one per key for a
        single-run step); return the metadata. A value that breaks its contract is not stored."""
        validate_output(self.graph[spec.step.node], value, spec.partition_keys)
        if spec.partition_keys:
            return {
                "partitions": {
                    key: self._store(spec, spec.step._replace(partition=key), kind, value[key])
                    for key in spec.partition_keys
                }
            }
        return self._store(spec, spec.step, kind, value)

    def _store(self, spec: StepSpec, step: StepKey, kind: str, value: Any) -> dict[str, Any]:
        asset_key = step.node if kind == "asset" else None
        context = IOContext(step, spec.run_id, asset_key)
        io = self.io_for(asset_key)
        if spec.stage and self._publishable(io):  # the engine publishes it
            metadata = dict(io.stage(context, value, spec.stage, inline=spec.inline))
        else:
            metadata = dict(io.store(context, value))
        if self.keep_values:
            self._values[(spec.run_id, str(step), None)] = value
            if asset_key is not None:
                self._values[(spec.run_id, str(step), asset_key)] = value
        return metadata

    def _publishable(self, io: IOManager) -> TypeGuard[FilesystemIOManager]:
        """Whether ``io`` writes where the engine publishes staged values: the storage root. A
        filesystem IO manager with another root (``[io_managers.NAME] root = ...``) stores its
        values itself."""
        default = self.default_io
        return (
            isinstance(io, FilesystemIOManager)
            and isinstance(default, FilesystemIOManager)
            and io.root == default.root
        )

    def resource(self, name: str, step_key: str, source: str | None) -> Any:
        if name in self._ready:
            return self._ready[name]
        resource = self.project.resources.get(name)
        if resource is None:
            raise ConfigError(
                f"step {step_key!r} ({source}) needs resource {name!r}, which is not configured",
                obj=name,
                source=source,
                hint=f"define `{name} = MyResource(...)` in a project module or add "
                f"[tool.legato.resources.{name}] to the config",
            )
        if isinstance(resource, Resource):
            resource.setup()
        self._ready[name] = resource
        return resource

    def close(self) -> None:
        for resource in self._ready.values():
            if isinstance(resource, Resource):
                resource.teardown()
        self._ready.clear()
        self._values.clear()
