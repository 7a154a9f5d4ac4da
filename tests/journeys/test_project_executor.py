"""Runs the daemon starts for a trigger, and runs launched from the API, execute on the
project's configured executor (not a hard-coded one)."""

from __future__ import annotations

from journey import Journey, across_stores, wait_until

PROJECT = """
    import threading
    from pathlib import Path
    import legato as lg

    @lg.task
    def where() -> str:
        name = threading.current_thread().name
        with Path("where.txt").open("a") as f:
            f.write(name + "\\n")
        return name

    every = lg.Pipeline("every", select="where", triggers=[lg.Every(1)])
"""


@across_stores(["threads", "inprocess"])
def test_scheduled_and_api_runs_use_the_project_executor(journey: Journey, executor: str) -> None:
    journey.write({"pipes.py": PROJECT}, config=f'executor = "{executor}"\n')
    server = journey.up()
    status, body = server.post("/api/v1/runs", {"selection": ["where"]})
    assert status == 201, body
    marker = journey.dir / "where.txt"
    wait_until(
        lambda: marker.exists() and len(marker.read_text().split()) >= 2,
        what="a scheduled and an API run",
    )
    names = set(marker.read_text().split())
    if executor == "threads":
        assert all(n.startswith("legato-step") for n in names), names
    else:
        assert names == {"MainThread"}, names
