"""Pipeline: a named selection of assets and tasks, with defaults for its runs."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from legato import plugins
from legato._internal.durations import EXAMPLES, parse_duration
from legato.definitions.keys import validate_key
from legato.definitions.labels import check_tags, check_text
from legato.definitions.policies import Retry
from legato.definitions.retention import Retention
from legato.errors import DefinitionError

TRIGGER_KINDS = ("cron", "every", "on_update", "sensor", "file_arrival", "message", "webhook")
# Triggers whose runs carry no config of their own: the pipeline's config is all they get (a
# sensor's, a message's and a webhook's requests carry theirs).
CONFIG_FROM_PIPELINE = ("cron", "every", "on_update", "file_arrival")


class Pipeline:
    """A named selection of the graph, with defaults for the runs that execute it.

    Args:
        name: unique pipeline name.
        select: a selection (``"group:sales+"``, ``"+report"``, ``"tag:team=finance"``, keys,
            globs), or a list of them; default: everything.
        tags: tags recorded on every run of the pipeline.
        retries: default retry policy for steps that declare none.
        executor: default executor (``inprocess``, ``threads``, ``process``, ``dask``, ``remote``
            or an installed plugin's).
        max_concurrency: steps running at once.
        triggers: what starts its runs: ``Cron``/``Every`` schedules, ``OnUpdate`` (when its
            upstreams update), sensors, ``FileArrival``, ``OnMessage``.
        priority: queue priority of its runs (higher first).
        sla: how long a run may take (``"45m"``, seconds or a ``timedelta``), counted from when
            it was queued: a run not succeeded by then misses it, and the daemon records that.
        retention: how long its runs are kept (``Retention(days=30, runs=1000)``); default:
            the project's ``[retention]`` of ``legato.toml``, else every run is kept.

    Example:
        >>> nightly = Pipeline("nightly", select="group:sales+", tags={"team": "finance"})
    """

    def __init__(
        self,
        name: str,
        select: str | Iterable[str] = "*",
        *,
        tags: Mapping[str, str] | None = None,
        retries: Retry | int | None = None,
        executor: str | None = None,
        max_concurrency: int | None = None,
        description: str | None = None,
        config: Mapping[str, Any] | None = None,
        triggers: Iterable[Any] = (),
        priority: int = 0,
        sla: Any = None,
        retention: Retention | None = None,
    ) -> None:
        frame = sys._getframe(1)
        self.source = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        validate_key(name, what="pipeline name", source=self.source)
        if isinstance(retries, int) and not isinstance(retries, bool):
            retries = Retry(retries)
        if executor is not None:
            if not isinstance(executor, str):
                raise DefinitionError(
                    f"pipeline {name!r} ({self.source}): executor={executor!r} is not a name",
                    obj=name,
                    source=self.source,
                    hint='pass an executor\'s name, such as "process"',
                )
            where = f"pipeline {name!r} ({self.source})"
            plugins.check(plugins.EXECUTORS, executor, source=where, error=DefinitionError)
        if max_concurrency is not None and (
            not isinstance(max_concurrency, int) or max_concurrency < 1
        ):
            raise DefinitionError(
                f"pipeline {name!r} ({self.source}): max_concurrency={max_concurrency!r} is invalid",
                obj=name,
                source=self.source,
                hint="pass a whole number ≥ 1",
            )
        self.name = name
        self.selection: tuple[str, ...] = (select,) if isinstance(select, str) else tuple(select)
        if not self.selection or not all(isinstance(s, str) for s in self.selection):
            raise DefinitionError(
                f"pipeline {name!r} ({self.source}): select={select!r} is invalid",
                obj=name,
                source=self.source,
                hint='pass a selection string such as "group:sales+"',
            )
        what = f"pipeline {name!r}"
        self.tags = check_tags(tags, what, self.source)
        self.retries: Retry | None = retries if isinstance(retries, Retry) else None
        self.executor = executor
        self.max_concurrency = max_concurrency
        self.description = check_text(description, "description", what, self.source)
        self.config = dict(config or {})
        self.priority = int(priority)
        self.sla: float | None = None
        if sla is not None:
            try:
                self.sla = parse_duration(sla)
            except ValueError as exc:
                raise DefinitionError(
                    f"pipeline {name!r} ({self.source}): sla {exc}",
                    obj=name,
                    source=self.source,
                    hint=f"write sla as {EXAMPLES}",
                ) from None
        self.retention = _retention(name, self.source, retention)
        self.triggers = tuple(triggers)
        for trigger in self.triggers:
            kind = (
                trigger.describe().get("kind")
                if callable(getattr(trigger, "describe", None))
                else None
            )
            if kind not in TRIGGER_KINDS:
                raise DefinitionError(
                    f"pipeline {name!r} ({self.source}): {trigger!r} is not a trigger",
                    obj=name,
                    source=self.source,
                    hint="use Cron(...), Every(...), OnUpdate(), a @sensor, FileArrival(...), "
                    "OnMessage(...) or Webhook(...)",
                )

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, select={list(self.selection)!r})"

    def run(self, **kwargs: Any) -> Any:
        """Run the pipeline in this process and return a ``RunResult`` (see ``legato.materialize``).

        Keyword arguments are those of ``materialize``; ``steps=`` gives the definitions to select
        from (default: every definition alive in this process).
        """
        # Running belongs to the execution layer, loaded on first use so that declaring pipelines
        # stays free of I/O. The one call from this layer upward: the import-linter contracts
        # name it as their only exception (pyproject.toml), so no other can slip in.
        from legato.execution.api import run_pipeline

        return run_pipeline(self, **kwargs)


def _retention(name: str, source: str, retention: object) -> Retention | None:
    if retention is None:
        return None
    if not isinstance(retention, Retention):
        raise DefinitionError(
            f"pipeline {name!r} ({source}): retention={retention!r} is not a Retention",
            obj=name,
            source=source,
            hint="write retention=Retention(days=30, runs=1000)",
        )
    if retention.problem:
        what, fix = retention.problem
        raise DefinitionError(
            f"pipeline {name!r} ({source}): retention {what}",
            obj=name,
            source=source,
            hint=f"{fix} in Retention(...)",
        )
    return retention
