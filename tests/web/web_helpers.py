"""Test helpers: record a snapshot, execute queued runs (the daemon's job), clients with CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from legato.definitions.project import Project
from legato.errors import LegatoError
from legato.execution.api import rerun_plan
from legato.execution.capture import capturing
from legato.execution.engine import RunEngine
from legato.execution.executors.base import ExecutorSetup
from legato.execution.executors.inprocess import InProcessExecutor
from legato.graph.build import build_graph
from legato.graph.plan import plan_run
from legato.graph.select import select
from legato.graph.snapshot import snapshot
from legato.store.engine import Store
from legato.store.run_search import RunFilter
from legato.store.runs import NewStep, add_steps, list_runs
from legato.store.snapshots import save_snapshot
from polling import wait_for as wait_for

PASSWORDS = {"ada": "ada-password-1", "otto": "otto-password-1", "vera": "vera-password-1"}


@dataclass
class Seeded:
    """What the ``seeded`` fixture recorded: a store with one succeeded and one failed run."""

    store: Store
    ok_run: str
    failed_run: str


def record_definitions(
    store: Store, project: Project, errors: list[LegatoError] | None = None
) -> None:
    """What the CLI or the code server does: store a snapshot of the definitions (with the
    ``errors`` of a project that loads in part)."""
    save_snapshot(store, snapshot(project, build_graph(project), errors))


def execute_queued(store: Store, project: Project, storage: Path) -> list[str]:
    """Plan and execute every queued run in this process, as the daemon's launcher will."""
    graph = build_graph(project)
    done = []
    for run in reversed(list_runs(store, RunFilter(statuses=("queued",)), limit=100)):
        if run.parent_run_id and run.from_failure:
            _, plan = rerun_plan(store, graph, run.parent_run_id)
        else:
            plan = plan_run(graph, select(graph, run.selection.split()), partitions=run.partition)
        steps = [
            NewStep(str(p.key), p.key.node, graph[p.key.node].step.kind, p.key.partition)
            for p in plan.steps
        ]
        with store.transaction() as conn:
            add_steps(conn, run.run_id, steps)
        executor = InProcessExecutor()
        executor.start(ExecutorSetup(project, storage, (), len(plan)))
        engine = RunEngine(store, graph, plan, run.run_id, executor, run_config=dict(run.config))
        with capturing():
            engine.execute()
        done.append(run.run_id)
    return done


class Client(TestClient):
    """A browser-like client: echoes the CSRF cookie in X-CSRF-Token on state changes."""

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
            token = self.cookies.get("legato_csrf")
            if token is None:
                token = super().request("GET", "/api/v1/session").json()["csrf_token"]
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRF-Token", token)
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)


def local_client(app: Any, *, token: bool = True) -> Client:
    """A client on the same machine as the server (the implicit local admin may apply), holding
    the local-mode token in its cookie as a browser does after opening the printed URL."""
    client = Client(app, base_url="http://127.0.0.1:8642", client=("127.0.0.1", 40000))
    if token:
        client.cookies.set("legato_local", local_token(app))
    return client


def local_token(app: Any) -> str:
    """The app's local-mode token (what ``legato up`` prints and writes to .legato/up-token)."""
    token: str = app.state.legato.auth.local_token
    return token


def remote_client(app: Any) -> Client:
    """A client from another machine (never the implicit local admin)."""
    return Client(app, base_url="http://legato.example", client=("10.1.2.3", 40000))


def login(client: Client, name: str, password: str) -> Client:
    response = client.post("/api/v1/session", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return client
