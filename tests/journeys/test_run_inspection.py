"""Why did my run fail? ``legato runs show``, ``legato logs`` and the REST API say it: each
failed step's error and traceback, as text, not JSON."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from journey import Journey

PROJECT = """
    import legato as lg

    @lg.asset
    def extract() -> int:
        print("connecting to the source")
        raise ValueError("the source is unreachable")

    @lg.asset
    def load(extract: int) -> int:
        return extract + 1

    @lg.asset
    def fine() -> int:
        return 1
"""


def _run_id(stdout: str) -> str:
    found = re.findall(r"^run (\S+) (?:succeeded|failed)\s*$", stdout, re.M)
    assert found, stdout
    return str(found[-1])


def test_runs_show_and_logs_say_why_a_run_failed(journey: Journey) -> None:
    journey.write({"pipes.py": PROJECT})
    failed = journey.legato("run", "extract+")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    run_id = _run_id(failed.stdout)
    journey.ok("run", "fine")

    listed = journey.ok("runs").stdout
    assert run_id in listed and "failed" in listed and "succeeded" in listed, listed
    assert journey.ok("runs", "--plain", "--status", "failed").stdout.split() == [run_id]

    shown = journey.ok("runs", "show", run_id[:14]).stdout
    assert f"run        {run_id} failed" in shown, shown
    assert re.search(r"extract\s+│ asset │ failed\s+│\s+1", shown), shown
    assert re.search(r"load\s+│ asset │ skipped", shown), shown
    assert "ValueError: the source is unreachable" in shown, shown
    assert "Traceback (most recent call last)" in shown, shown
    assert 'pipes.py", line 7, in extract' in shown, shown
    assert "{" not in shown, shown  # text, not the stored JSON

    logs = journey.ok("logs", run_id).stdout
    assert "connecting to the source" in logs, logs
    assert logs.index("connecting to the source") < logs.index("Traceback"), logs
    assert "ValueError: the source is unreachable" in logs, logs
    step_logs = journey.ok("logs", run_id, "extract").stdout
    assert "Traceback (most recent call last)" in step_logs, step_logs

    missing = journey.legato("runs", "show", "nonexistent")
    assert missing.returncode == 2 and "no run 'nonexistent'" in missing.stderr, missing.stderr


def test_the_api_returns_a_failed_steps_error_as_type_message_and_traceback(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    failed = journey.legato("run", "extract+")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    run_id = _run_id(failed.stdout)
    server = journey.up()

    status, body = server.get(f"/api/v1/runs/{run_id}/steps")
    assert status == 200, body
    steps = {s["step_key"]: s for s in body["steps"]}
    error = steps["extract"]["error"]
    assert error["type"] == "ValueError", error
    assert error["message"] == "the source is unreachable", error
    assert error["traceback"].startswith("Traceback (most recent call last)"), error
    assert 'pipes.py", line 7, in extract' in error["traceback"], error
    assert steps["load"]["error"] is None, steps["load"]
    assert body["run"]["error"] == {"type": "", "message": "steps failed: extract", "traceback": ""}

    status, run = server.get(f"/api/v1/runs/{run_id[:14]}")
    assert status == 200 and run["error"]["message"] == "steps failed: extract", run


CHROMIUM = os.environ.get("LEGATO_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("CI") != "true",
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
)
def test_the_run_page_shows_a_failed_steps_message_and_traceback(journey: Journey) -> None:
    from playwright.sync_api import sync_playwright

    journey.write({"pipes.py": PROJECT})
    run_id = _run_id(journey.legato("run", "extract+").stdout)
    server = journey.up()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(server.login_url)
            page.goto(f"{server.url}/#/runs/{run_id}")
            page.wait_for_selector("#step-failures .failure[data-step='extract'] pre.traceback")
            shown = page.text_content("#step-failures pre.traceback") or ""
            run_error = page.text_content("#run-error") or ""
            cell = page.text_content("#steps tr[data-step='extract'] td:last-child") or ""
        finally:
            browser.close()
    assert shown.startswith("ValueError: the source is unreachable\n\nTraceback"), shown
    assert 'pipes.py", line 7, in extract' in shown, shown
    assert run_error == "steps failed: extract", run_error
    assert cell == "ValueError: the source is unreachable", cell
