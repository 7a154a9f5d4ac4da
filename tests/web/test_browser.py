"""The UI in a real browser (Debian's Chromium through Playwright): lineage, launching a run,
watching it succeed, its logs, XSS payloads in a log line and a description staying inert,
switching a schedule off, the partition matrix of an asset, and resuming a backfill."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec
import pytest
import web_ops_sample
import web_sample as sample
from web_helpers import execute_queued, record_definitions
from web_server import LiveServer

import legato as lg
from legato.definitions.project import Project
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.automation import list_triggers
from legato.store.engine import Store
from legato.store.runs import get_run
from legato.web import accounts
from legato.web.app import create_app

# The pages run under the production CSP, which forbids eval: waits use selectors, not
# wait_for_function (Playwright evaluates its predicates with eval).
CHROMIUM = os.environ.get("LEGATO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.together,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and os.environ.get("CI") != "true",
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1300, "height": 850})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        # HTTP errors the UI handles (a wrong password's 401) are logged by Chrome too; CSP
        # violations and script errors are what must never happen.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page.problems.append(f"console: {message.text}")

    page.on("console", on_console)
    yield page
    context.close()


def _wait_for_run_page(page, form: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for the launched run's page; if it never comes, fail with what the launch form shows
    (an error from the API, a selection that changed) and a screenshot of the page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url("**/#/runs/*")
    except PlaywrightTimeout:
        _shot(page, "launch-failed")
        shown = page.inner_text(form) if page.query_selector(form) else "(no launch form)"
        raise AssertionError(f"no run page after launching; the form shows: {shown!r}") from None


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_launch_from_lineage_watch_it_succeed_and_read_its_logs(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    record_definitions(store, sample.project())
    lg.materialize(sample.STEPS, selection="broken", store=store, raise_on_error=False)
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/lineage")
        page.wait_for_selector("#lineage-canvas[data-ready='1']")
        _shot(page, "lineage")
        page.fill("#lineage-search", "clean_orders")
        page.press("#lineage-search", "Enter")
        page.wait_for_selector("#side-key")
        assert page.text_content("#side-key") == "clean_orders"
        page.fill("#lineage-side #launch-selection", "+report")
        page.click("#lineage-side #launch-button")
        _wait_for_run_page(page, "#lineage-side")
        run_id = page.url.rsplit("/", 1)[1]
        page.wait_for_selector("#view[data-run-status='queued']")
        assert execute_queued(store, sample.project(), tmp_path / "storage") == [run_id]
        page.wait_for_selector("#view[data-run-status='succeeded']", timeout=10_000)
        page.wait_for_selector("#steps tr[data-status='succeeded'][data-step='report']")
        colour = page.eval_on_selector(
            "#steps tr[data-step='report'] .badge", "e => getComputedStyle(e).backgroundColor"
        )
        assert colour == "rgb(46, 158, 91)"  # green
        page.wait_for_selector("#logs .line")
        page.wait_for_selector("#logs .line:has-text('onerror')")
        logs = page.text_content("#logs")
        assert sample.XSS in logs and "2 orders" in logs
        assert (
            page.query_selector("#logs img") is None and page.query_selector("#logs script") is None
        )
        page.fill("#log-search", "orders")
        page.press("#log-search", "Enter")
        page.wait_for_selector("#log-status:has-text('matching')")
        _shot(page, "run")
        page.check("#steps tr[data-step='clean_orders'] input.pick")
        page.wait_for_selector("#rerun-selected:has-text('(1)'):not([disabled])")
        page.click("#rerun-selected")  # re-execute only the ticked steps
        page.wait_for_selector("#view[data-run-status='queued']")
        again = page.url.rsplit("/", 1)[1]
        assert again != run_id and get_run(store, again).selection == "clean_orders"
        page.goto(f"{server.url}/#/assets/clean_orders")
        page.wait_for_selector("#asset-description")
        assert sample.XSS in page.text_content("#asset-description")
        assert page.query_selector("#asset-description img") is None
        _shot(page, "asset")
        page.goto(f"{server.url}/#/")
        page.wait_for_selector("#failures table")
        _shot(page, "overview")
        assert page.evaluate("window.__xss") is None
    assert page.problems == []


def test_login_page_and_a_viewer_cannot_launch(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    record_definitions(store, sample.project())
    accounts.add_user(store, "vera", "viewer", "vera-password-1")
    with LiveServer(create_app(store)) as server:
        page.goto(f"{server.url}/#/runs")
        page.wait_for_selector("#username")
        page.fill("#username", "vera")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_selector(".error-box")
        page.fill("#password", "vera-password-1")
        page.click("button[type=submit]")
        page.wait_for_selector("#who:has-text('vera')")
        page.goto(f"{server.url}/#/runs")
        page.wait_for_selector("#launch-button")
        assert page.is_disabled("#launch-button")
        _shot(page, "runs-viewer")
    assert page.problems == []


def test_automation_switch_and_partition_matrix(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    ops = web_ops_sample.seed(store, tmp_path / "storage")
    cron = "parts_nightly#0:cron"
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/automation")
        row = f"tr[data-trigger='{cron}']"
        page.wait_for_selector(f"{row}[data-enabled='true'] button.toggle")
        assert "0 2 * * * (Europe/Berlin)" in page.text_content(row)
        page.click(f"{row} button.toggle")
        page.wait_for_selector(f"{row}[data-enabled='false']")
        assert {t.trigger_id: t.enabled for t in list_triggers(store)}[cron] is False
        page.click("tr[data-trigger='tenant_watch#0:sensor'] button.history")
        page.wait_for_selector("#ticks-table tr[data-status='skipped']")
        assert "no new tenant" in page.text_content("#ticks-table")
        _shot(page, "automation")
        page.goto(f"{server.url}/#/assets/regional_sales")
        cell = "#partition-matrix button[data-key='date=2024-02-29,region=eu']"
        page.wait_for_selector(f"{cell}[data-status='materialized']")
        assert page.text_content("#partition-counts").count("materialized 2") == 1
        page.click("#partition-matrix button[data-key='date=2024-02-27,region=apac']")
        assert page.text_content("#partition-key") == "date=2024-02-27,region=apac"
        _shot(page, "asset-partitions")
        page.click("#materialize-partition")
        page.wait_for_url("**/#/runs/*")
        run_id = page.url.rsplit("/", 1)[1]
        assert get_run(store, run_id).partition == "date=2024-02-27,region=apac"
        page.goto(f"{server.url}/#/backfills/{ops.backfill_id}")
        page.wait_for_selector("#view[data-backfill-status='failed']")
        assert page.text_content("#backfill-config") == '{"source":"export-v2"}'
        assert "legato backfill" in page.text_content("#backfill-hint")
        page.click("#backfill-resume")
        page.wait_for_selector("#view[data-backfill-status='requested']")
        _shot(page, "backfill")
    assert page.problems == []


class ExportConfig(msgspec.Struct):
    table: str
    rows: int = 100
    mode: Literal["append", "replace"] = "append"


@lg.task
def export(config: ExportConfig) -> str:
    return config.table


class ArchiveConfig(msgspec.Struct):
    days: int = 7


@lg.task
def archive(export: str, config: ArchiveConfig) -> str:
    return f"{export} for {config.days} days"


def test_launch_form_asks_for_the_config_its_json_schema_describes(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    record_definitions(store, Project.of([export, archive]))
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/assets/export")
        page.wait_for_selector("#launch-config #config-export-table")
        page.click("#launch-button")  # export.table is required: the 422 says so
        page.wait_for_selector(".error-box:has-text('an object with')")
        page.fill("#config-export-table", "daily")
        page.fill("#config-export-rows", "7")
        page.select_option("#config-export-mode", '"replace"')
        # archive takes config too: its form is added, and what was typed for export stays
        page.fill("#launch-selection", "export+")
        page.press("#launch-selection", "Tab")
        page.wait_for_selector("#launch-config #config-archive-days")
        assert page.input_value("#config-export-table") == "daily"
        assert page.input_value("#config-export-rows") == "7"
        page.fill("#config-archive-days", "30")
        _shot(page, "launch-config")
        page.click("#launch-button")
        page.wait_for_url("**/#/runs/*")
        run_id = page.url.rsplit("/", 1)[1]
        config = get_run(store, run_id).config
        assert config == {
            "export": {"table": "daily", "rows": 7, "mode": "replace"},
            "archive": {"days": 30},
        }
    assert page.problems == []


DELIVERED = iter(
    [[{"id": 1}, {"id": None}]] * 2 + [[{"id": 3, "late": 1}, {"id": None, "late": 1}]]
)


@lg.asset(checks=[lg.checks.not_null("id", blocking=True), lg.checks.row_count(max=1)])
def deliveries(context) -> list[dict]:
    batch = next(DELIVERED)
    context.add_metadata(late=sum(1 for d in batch if "late" in d))
    return batch


def test_asset_page_shows_check_results_an_untrusted_materialization_and_rows_over_time(  # type: ignore[no-untyped-def]
    page, tmp_path: Path
):
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    record_definitions(store, Project.of([deliveries]))
    for _ in range(3):  # the third hands over another shape
        lg.materialize([deliveries], store=store, storage=tmp_path, raise_on_error=False)
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/assets/deliveries")
        page.wait_for_selector(
            "#checks tr[data-check='deliveries:check:not_null_id'][data-outcome='fail']"
        )
        assert "nulls=1" in page.text_content("#checks")
        assert page.is_visible(
            "#checks tr[data-check='deliveries:check:row_count'][data-outcome='fail']"
        )
        assert "not trusted" in page.text_content("#latest #trust")
        page.wait_for_selector("#rows-section .sparkline-row[data-points='3'][data-last='2'] svg")
        points = page.get_attribute("#rows-section polyline", "points")
        assert points == "3.0,37.0 120.0,37.0 237.0,37.0"  # three hand-offs of 2 rows
        assert "2 rows" in page.text_content("#rows-section")
        # every number each hand-off recorded is drawn, and where the schema changed is said
        page.wait_for_selector("#rows-section .sparkline-row[data-name='late'][data-last='2'] svg")
        late = page.get_attribute("#rows-section [data-name='late'] polyline", "points")
        assert late == "3.0,37.0 120.0,37.0 237.0,3.0"  # 0, 0, then 2 late deliveries
        assert page.is_visible(
            "#rows-section .sparkline-row[data-name='bytes'][data-points='3'] svg"
        )
        changes = page.text_content("#schema-changes")
        assert "changed 1 time in the last 3 materializations" in changes, changes
        assert page.get_attribute("#schema-changes", "data-changes") == "1"
        _shot(page, "asset-checks")
        page.click("#checks a:has-text('deliveries:check:not_null_id')")
        page.wait_for_selector("#asset-key:has-text('deliveries:check:not_null_id')")
        assert page.text_content("h1").startswith("Check")
    assert page.problems == []


def test_the_shop_example_s_launch_form_asks_for_clean_orders_config(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    shop = Path(__file__).resolve().parents[2] / "examples" / "shop"
    before = set(sys.modules)
    try:
        loaded = load_project(load_settings(shop, env={}))
    finally:  # the example's package does not outlive the test
        for name in set(sys.modules) - before:
            if name == "shop" or name.startswith("shop."):
                del sys.modules[name]
    assert loaded.errors == []
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    record_definitions(store, loaded.project)
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/assets/clean_orders")
        page.wait_for_selector("#launch-config #config-clean_orders-min_amount")
        assert page.get_attribute("#config-clean_orders-min_amount", "placeholder") == "default"
        page.fill("#launch-selection", "clean_orders+")
        page.fill("#config-clean_orders-min_amount", "1000")
        _shot(page, "shop-config")
        page.click("#launch-button")
        _wait_for_run_page(page, "#launch-form")
        run = get_run(store, page.url.rsplit("/", 1)[1])
        assert run.config == {"clean_orders": {"min_amount": 1000}}
    assert page.problems == []
