"""Message consumers: a child process of the daemon with one consumer loop per enabled
``OnMessage`` trigger (``python -m legato.automation.consumers``).

User code (``to_run``) runs here, never in the daemon. Each micro-batch's runs, their tick records
and any new dynamic partitions commit in ONE transaction keyed by the message ids; only then does
the consumer ack the broker, so a crash anywhere redelivers and the keys dedupe. A message whose
run could not start (its config does not fit the config models of the pipeline's steps) is
poison: recorded as a failed tick with the problems, then dead-lettered.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from legato import plugins
from legato._internal.masking import mask_process_output
from legato.automation.consume import ConsumerLoop
from legato.definitions.messages import (
    Message,
    MessageSource,
    OnMessage,
    RunRequest,
    message_key_parts,
)
from legato.definitions.pipeline import Pipeline
from legato.errors import LegatoError
from legato.graph.build import build_graph
from legato.graph.graph import Graph
from legato.graph.run_config import selection_config_schema
from legato.graph.select import select
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.automation import list_triggers, trigger_id
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.partitions import insert_dynamic_keys
from legato.store.run_requests import NewRun, request_run_in
from legato.store.schema_automation import TICK_KEY_LENGTH, ticks
from legato.store.tick_writes import TickWrite, write_ticks

log = logging.getLogger("legato.consumers")


def tick_key(message: Message) -> str:
    """The key of a message's tick: where it came from and its id."""
    return f"{message.source}:{message.id}"[:TICK_KEY_LENGTH]


def message_run(
    trigger: str,
    pipeline: Pipeline,
    message: Message,
    request: RunRequest,
    config_schema: Mapping[str, Any] | None = None,
) -> NewRun:
    """The run ``message`` asks for; ``RunConfigError`` if its config (the pipeline's with the
    request's over it) does not fit ``config_schema``, the schema of the pipeline's steps."""
    return NewRun.of_pipeline(
        pipeline,
        partition=request.partition,
        tags=request.tags,
        config=request.config,
        trigger="message",
        trigger_id=trigger,
        key=(request.key,) if request.key else message_key_parts(message),
        config_schema=config_schema,
    )


def record_batch(
    store: Store,
    trigger: str,
    pipeline: Pipeline,
    pairs: Sequence[tuple[Message, RunRequest]],
    *,
    config_schema: Mapping[str, Any] | None = None,
    checked: Mapping[int, NewRun] | None = None,
) -> list[str]:
    """Commit a batch: dynamic keys, one run per message (idempotent) and its tick, together.

    ``checked`` holds the runs already made (and their config checked) for some of the
    requests, by ``id()`` of the request; the others are made here."""
    run_ids = []
    with store.transaction() as conn:
        for message, request in pairs:
            for name, keys in request.dynamic_partitions.items():
                insert_dynamic_keys(conn, name, keys, added_by=f"trigger:{trigger}")
            run = (checked or {}).get(id(request)) or message_run(
                trigger, pipeline, message, request, config_schema
            )
            run_id, _ = request_run_in(conn, run)
            run_ids.append(run_id)
            stmt = upsert(conn.dialect.name, ticks).values(
                trigger_id=trigger,
                tick_key=tick_key(message),
                ts=time.time(),
                status="requested",
                run_id=run_id,
                reason=None,
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["trigger_id", "tick_key"]))
    return run_ids


@dataclass(frozen=True)
class MessageRuns:
    """How the messages of one ``OnMessage`` trigger become runs of its pipeline, for its
    :class:`ConsumerLoop`: ``check`` refuses a run that could not start (its config does not fit
    ``config_schema``, the config models of the steps the pipeline runs), so the message is
    dead-lettered as poison instead of making a failing run or holding its batch back;
    ``dead_lettered`` records each poison message as a failed tick with its problem (the tick
    history, ``legato automation ticks`` and the API show it); ``record`` commits the rest."""

    store: Store
    trigger: str
    pipeline: Pipeline
    config_schema: Mapping[str, Any] | None = None
    # The runs ``check`` made for the batch in hand, by id() of their request, for ``record``
    # to commit as they are instead of making and checking them again. Emptied by every record.
    _checked: dict[int, NewRun] = field(default_factory=dict, compare=False, repr=False)

    def check(self, message: Message, request: RunRequest) -> str | None:
        try:
            run = message_run(self.trigger, self.pipeline, message, request, self.config_schema)
        except ValueError as exc:  # RunConfigError, or a request NewRun refuses otherwise
            return str(exc)
        self._checked[id(request)] = run
        return None

    def record(self, pairs: Sequence[tuple[Message, RunRequest]]) -> None:
        try:
            record_batch(
                self.store,
                self.trigger,
                self.pipeline,
                pairs,
                config_schema=self.config_schema,
                checked=self._checked,
            )
        finally:  # a batch is checked, then recorded: ids are not reused across batches
            self._checked.clear()

    def dead_lettered(self, message: Message, problem: str) -> None:
        write = TickWrite(self.trigger, tick_key(message), status="failed", reason=problem)
        write_ticks(self.store, [write])


def message_runs(
    store: Store, trigger: str, pipeline: Pipeline, graph: Graph | None
) -> MessageRuns:
    """The :class:`MessageRuns` of ``trigger``, its runs checked against the config models of
    the steps ``pipeline`` runs in ``graph`` (none without a graph, or when its selection matches
    nothing: its runs then fail to plan, and ``legato check`` names it)."""
    schema = None
    if graph is not None:
        try:
            schema = selection_config_schema(graph, select(graph, pipeline.selection))
        except LegatoError as exc:
            log.warning("%s: its runs' config cannot be checked: %s", trigger, exc)
    return MessageRuns(store, trigger, pipeline, schema)


def consumer_loop(
    store: Store,
    trigger: str,
    pipeline: Pipeline,
    spec: OnMessage,
    graph: Graph | None,
    **options: Any,
) -> ConsumerLoop:
    """The consumer of one ``OnMessage`` trigger (not started), recording through
    :class:`MessageRuns`; ``options`` go to :class:`ConsumerLoop`."""
    runs = message_runs(store, trigger, pipeline, graph)
    return ConsumerLoop(
        source_for(spec),
        spec,
        runs.record,
        check=runs.check,
        dead_lettered=runs.dead_lettered,
        **options,
    )


def source_for(trigger: OnMessage) -> MessageSource:
    """The trigger's message source, not yet connected: the one installed for its kind."""
    factory = plugins.load(plugins.MESSAGE_SOURCES, trigger.source.kind, source=trigger.label)
    source: MessageSource = factory(trigger.source)
    return source


def message_triggers(pipelines: Mapping[str, Pipeline]) -> dict[str, tuple[Pipeline, OnMessage]]:
    out = {}
    for pipe in pipelines.values():
        for index, trigger in enumerate(pipe.triggers):
            if isinstance(trigger, OnMessage):
                out[trigger_id(pipe.name, index, "message")] = (pipe, trigger)
    return out


def _daemon_pid() -> int:
    """The daemon that started us (``--daemon-pid``; it may have died while we were loading)."""
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--daemon-pid" and args[1].isdigit():
        return int(args[1])
    return os.getppid()


def main() -> None:
    mask_process_output()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    store = settings.open_store()
    loaded = load_project(settings)
    wanted = message_triggers(loaded.project.pipelines)
    graph: Graph | None = None
    try:  # to check each run's config against the config models of its steps
        graph = build_graph(loaded.project)
    except LegatoError as exc:  # the daemon's loader reports it; consume without the check
        log.warning("the project's graph cannot be built, so run config is not checked: %s", exc)
    loops: dict[str, ConsumerLoop] = {}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    daemon = _daemon_pid()
    while not stop.is_set():
        if os.getppid() != daemon:  # the daemon died (kill -9): its successor starts its own
            log.info("the daemon that started these consumers is gone; stopping")
            break
        enabled = {t.trigger_id for t in list_triggers(store) if t.enabled}
        for key, (pipe, trigger) in wanted.items():
            running = loops.get(key)
            if key in enabled and running is None:
                loops[key] = consumer_loop(store, key, pipe, trigger, graph)
                loops[key].start()
                log.info("consuming %s for %s", trigger.source.name, key)
            elif key not in enabled and running is not None:
                running.stop()
                del loops[key]
        stop.wait(2.0)  # re-read which triggers are enabled
    for loop in loops.values():
        loop.stop()


if __name__ == "__main__":
    main()
