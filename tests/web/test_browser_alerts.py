"""The freshness section of the asset page and the Alerts page, in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import test_browser
from web_server import LiveServer

import legato as lg
from legato.store.alerts import Incident, raise_alert
from legato.store.engine import Store
from legato.testing import VirtualDaemon
from legato.web.app import create_app

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixtures
page = test_browser.page


def test_the_asset_page_shows_freshness_and_the_alerts_page_lists_alerts(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    @lg.asset(freshness=lg.Freshness(max_lag="1h"))
    def revenue() -> int:
        return 1

    store = Store(f"sqlite:///{tmp_path}/legato.db")
    start = datetime.now(UTC) - timedelta(hours=3)
    VirtualDaemon([], steps=[revenue], start=start, store=store).advance(to=datetime.now(UTC))
    with store.transaction() as conn:
        late = Incident("freshness_missed", "revenue", "Asset 'revenue' is <b>late</b>", {})
        raise_alert(conn, late, ["ops"], now=start.timestamp())
    with LiveServer(create_app(store)) as server:
        page.goto(server.login_url)
        page.goto(f"{server.url}/#/assets/revenue")
        page.wait_for_selector("#freshness-violations tr[data-violation]")
        assert "at most 1h old" in page.text_content("#freshness")
        assert page.text_content("#freshness-subjects .badge") == "late"
        page.goto(f"{server.url}/#/alerts")
        page.wait_for_selector("#alerts-open tr[data-alert]")
        row = page.text_content("#alerts-open tr[data-alert]")
        assert "freshness_missed" in row and "<b>late</b>" in row  # shown as text, not markup
        assert "ops firing" in row and "pending" in row
        test_browser._shot(page, "alerts")
    store.dispose()
    assert page.problems == []
