"""S-10: the web server runs no user code. In a fresh interpreter, serving every read route over
a snapshot (partitions, schedules and backfills included) imports neither the engine, the step
runner, the loader, the automation daemon, nor any project module."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CODE = textwrap.dedent(
    """
    import sys
    from legato.store.engine import Store
    from legato.graph.snapshot import read_snapshot
    from legato.store.snapshots import save_snapshot
    from legato.web.app import create_app
    from starlette.testclient import TestClient

    store = Store("sqlite://")
    node = {"key": "shop_assets.orders", "kind": "asset", "upstream": [], "source": "shop_assets.py:3"}
    days = {"kind": "time_window", "name": "date", "cron": "0 0 * * *", "timezone": "UTC",
            "fmt": "%Y-%m-%d", "start": "2024-01-01T00:00:00+00:00", "end": None, "end_offset": 0}
    daily = {"key": "shop_assets.daily", "kind": "asset", "upstream": [], "partitions": days}
    cron = {"kind": "cron", "expr": "0 2 * * *", "timezone": "Europe/Berlin"}
    pipe = {"name": "nightly", "selection": ["*"], "nodes": [], "triggers": [cron]}
    save_snapshot(store, read_snapshot({"nodes": [node, daily], "pipelines": [pipe]}))
    app = create_app(store)
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 1))
    client.cookies.set("legato_local", app.state.legato.auth.local_token)
    for path in ("/", "/api/v1/session", "/api/v1/definitions", "/api/v1/graph/layout",
                 "/api/v1/graph/status", "/api/v1/assets/shop_assets.orders", "/api/v1/runs",
                 "/api/v1/overview", "/api/v1/assets/shop_assets.daily/partitions",
                 "/api/v1/assets/shop_assets.daily/partitions/matrix", "/api/v1/partitions/sets",
                 "/api/v1/backfills", "/api/v1/automation/triggers"):
        assert client.get(path).status_code == 200, path
    launched = client.post("/api/v1/runs", json={"selection": "*"},
                           headers={"X-CSRF-Token": client.cookies["legato_csrf"]})
    assert launched.status_code == 201, launched.text
    forbidden = ("legato.execution.engine", "legato.execution.step", "legato.execution.launcher",
                 "legato.loader.modules", "legato.automation", "shop_assets", "cloudpickle")
    print(sorted(m for m in sys.modules if m.startswith(forbidden)))
    """
)


def test_serving_imports_no_engine_loader_or_project_module(tmp_path: Path):
    (tmp_path / "shop_assets.py").write_text("raise SystemExit('user code was imported')\n")
    result = subprocess.run(
        [sys.executable, "-c", CODE], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
