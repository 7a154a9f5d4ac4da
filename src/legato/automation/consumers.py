"""Message consumers: a child process of the daemon with one consumer loop per enabled
``OnMessage`` trigger (``python -m legato.automation.consumers``).

User code (``to_run``) runs here, never in the daemon. Each micro-batch's runs, their tick records
and any new dynamic partitions commit in ONE transaction keyed by the message ids; only then does
the consumer ack the broker, so a crash anywhere redelivers and the keys dedupe.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
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
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.automation import list_triggers, trigger_id
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.partitions import insert_dynamic_keys
from legato.store.run_requests import NewRun, request_run_in
from legato.store.schema_automation import ticks

log = logging.getLogger("legato.consumers")


def record_batch(
    store: Store, trigger: str, pipeline: Pipeline, pairs: Sequence[tuple[Message, RunRequest]]
) -> list[str]:
    """Commit a batch: dynamic keys, one run per message (idempotent) and its tick, together."""
    run_ids = []
    with store.transaction() as conn:
        for message, request in pairs:
            for name, keys in request.dynamic_partitions.items():
                insert_dynamic_keys(conn, name, keys, added_by=f"trigger:{trigger}")
            run = NewRun.of_pipeline(
                pipeline,
                partition=request.partition,
                tags=request.tags,
                config=request.config,
                trigger="message",
                trigger_id=trigger,
                key=(request.key,) if request.key else message_key_parts(message),
            )
            run_id, _ = request_run_in(conn, run)
            run_ids.append(run_id)
            stmt = upsert(conn.dialect.name, ticks).values(
                trigger_id=trigger,
                tick_key=f"{message.source}:{message.id}"[:300],
                ts=time.time(),
                status="requested",
                run_id=run_id,
                reason=None,
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["trigger_id", "tick_key"]))
    return run_ids


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
    store = Store(settings.database_url)
    loaded = load_project(settings)
    wanted = message_triggers(loaded.project.pipelines)
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

                def record(pairs: Any, key: str = key, pipe: Pipeline = pipe) -> None:
                    record_batch(store, key, pipe, pairs)

                loops[key] = ConsumerLoop(source_for(trigger), trigger, record)
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
