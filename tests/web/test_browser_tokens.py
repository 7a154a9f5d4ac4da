"""The Tokens page in a real browser: a user makes a token with a lifetime and sees it once, an
admin revokes another user's token, and the revoked token then gets 401."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import test_browser
from web_server import LiveServer

from legato.store.engine import Store
from legato.web import accounts, tokens
from legato.web.app import create_app

pytestmark = test_browser.pytestmark
browser = test_browser.browser  # the fixtures
page = test_browser.page


def _log_in(page, url: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/#/login")
    page.wait_for_selector("#username")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector(f"#who:has-text('{name}')")


def _status(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())["error"]["code"]


def test_make_a_token_then_an_admin_revokes_it(page, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    accounts.add_user(store, "ada", "admin", "ada-password-1")
    accounts.add_user(store, "otto", "operator", "otto-password-1")
    with LiveServer(create_app(store)) as server:
        _log_in(page, server.url, "otto", "otto-password-1")
        page.click("#nav-tokens")
        page.wait_for_selector("#token-label")
        page.fill("#token-label", "deploys")
        page.select_option("#token-lifetime", "30d")
        page.click("button[type=submit]")
        page.wait_for_selector("#new-token code.secret")
        secret = page.text_content("#new-token code.secret") or ""
        assert secret.startswith("lgt_")
        page.wait_for_selector("#my-tokens tr[data-state='active']")
        assert "deploys" in (page.text_content("#my-tokens") or "")
        assert "Every user" not in (page.text_content("#view") or "")  # an operator: its own
        (made,) = tokens.list_tokens(store, accounts.get_user(store, "otto"))
        assert round((made.expires_at - made.created_at) / 86400) == 30
        assert _status(f"{server.url}/api/v1/runs", secret) == (200, "")
        page.click("#logout")
        page.wait_for_selector("#username")

        _log_in(page, server.url, "ada", "ada-password-1")
        page.goto(f"{server.url}/#/tokens")
        row = f"#tokens-otto tr[data-token-id='{made.token_id}']"
        page.wait_for_selector(f"{row}[data-state='active']")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"{row} button.danger")
        page.wait_for_selector(f"{row}[data-state='revoked']")
        test_browser._shot(page, "tokens-admin")
        assert _status(f"{server.url}/api/v1/runs", secret) == (401, "token_revoked")
    assert page.problems == []
