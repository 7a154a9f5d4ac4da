"""The code server: a child process that loads the user's project and answers the daemon.

Reads one JSON request per line on stdin, writes one JSON answer per line on stdout: a snapshot
of the definitions, a trigger's evaluation, or the plan of a backfill recorded unplanned. Errors
in user code become ``{"error": ...}`` answers; the process itself only exits at end of input.

When the project's files change on disk (a module edited, one added under ``paths``, the config),
the server replaces itself with a fresh one (``exec``, keeping its pipes) that loads the project
again and answers the request that was waiting: a running daemon picks up new code within its
next snapshot (10 s) without a restart.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
import traceback
from typing import Any

from legato._internal.masking import mask_process_output
from legato._internal.secrets import redact_data
from legato.automation.backfill_plans import plan_recorded
from legato.automation.evaluate import evaluate
from legato.automation.evaluation import as_data as evaluation_data
from legato.errors import LegatoError
from legato.graph.build import build_graph, build_graph_with_errors
from legato.graph.snapshot import as_data, snapshot
from legato.loader.config import load_settings
from legato.loader.fingerprint import fingerprint, loaded_at
from legato.loader.modules import load_project

PENDING = "LEGATO_CODE_SERVER_PENDING"  # the request a replaced server answers first
CHECK_EVERY = 1.0  # seconds between looks at the project's files, at most


def main(argv: list[str] | None = None) -> None:
    out = sys.stdout  # answers are masked as data: text masking could break their JSON
    mask_process_output()
    sys.stdout = sys.stderr  # user code that prints must not corrupt the protocol
    settings = load_settings()
    loading = time.time()
    loaded = load_project(settings)
    sources = loaded_at(settings, loading)
    checked = time.monotonic()
    partial, definition_errors = build_graph_with_errors(loaded.project)
    errors = [*loaded.errors, *definition_errors]
    graph = None if errors else build_graph(loaded.project)
    store = settings.open_store()
    pending = os.environ.pop(PENDING, None)
    for line in itertools.chain([pending] if pending else [], sys.stdin):
        if time.monotonic() - checked >= CHECK_EVERY:
            checked = time.monotonic()
            if fingerprint(settings) != sources:  # the daemon waits for this line's answer
                out.flush()
                argv = [sys.executable, "-m", "legato.automation.code_server"]
                os.execve(sys.executable, argv, {**os.environ, PENDING: line})  # noqa: S606
        try:
            request = json.loads(line)
            answer: dict[str, Any]
            if request.get("op") == "snapshot":
                # a broken project still shows what loads, with every error and its file:line
                answer = {"snapshot": as_data(snapshot(loaded.project, graph or partial, errors))}
            elif graph is None:
                first = errors[0]
                answer = {"error": f"the project does not load: {first}", "hint": first.hint}
            elif request.get("op") == "plan_backfill":
                answer = {"result": plan_recorded(graph, store, str(request["backfill_id"]))}
            else:
                answer = {
                    "result": evaluation_data(evaluate(loaded.project, graph, store, request))
                }
        except LegatoError as exc:
            answer = {"error": exc.message, "hint": exc.hint}
        except Exception as exc:  # user code failed: report it, keep serving
            tb = traceback.format_exc(limit=-8)
            answer = {"error": f"{type(exc).__name__}: {exc}", "hint": tb[-2000:]}
        out.write(json.dumps(redact_data(answer), default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
