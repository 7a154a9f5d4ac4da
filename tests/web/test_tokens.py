"""API tokens expire, record their last use at most once a minute, and are revoked one by one
(by their owner, or by an admin for any user); a token that stopped working says why. On SQLite
and PostgreSQL, in process."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from web_helpers import PASSWORDS, Client, login, remote_client

from legato.store.engine import Store
from legato.store.schema_web import web_tokens
from legato.web import accounts, tokens
from legato.web.app import create_app
from legato.web.config import AuthConfig

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(tokens, "clock", moved)
    return moved


def _bearer(app, token: str) -> Client:  # type: ignore[no-untyped-def]
    client = remote_client(app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _made(client: Client, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/v1/tokens", json={"label": "ci", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_token_lasts_the_server_default_or_what_its_request_asks(store: Store, users, clock):
    app = create_app(store, auth=AuthConfig(token_lifetime=7 * DAY))
    otto = login(remote_client(app), "otto", PASSWORDS["otto"])
    default = _made(otto)
    assert default["expires_at"] == clock.now + 7 * DAY and default["state"] == "active"
    assert default["last_used_at"] is None and default["revoked_at"] is None
    asked = _made(otto, expires_in="30d")
    assert asked["expires_at"] == clock.now + 30 * DAY
    for wrong in ("soon", "0s", "20000d", "30"):
        refused = otto.post("/api/v1/tokens", json={"expires_in": wrong})
        assert refused.status_code == 400, wrong
        assert refused.json()["error"]["field"] == "expires_in"


def test_an_expired_token_is_refused_saying_since_when(store: Store, users, clock):
    app = create_app(store)
    otto = login(remote_client(app), "otto", PASSWORDS["otto"])
    made = _made(otto, expires_in="1h")
    script = _bearer(app, made["token"])
    assert script.get("/api/v1/runs").status_code == 200
    clock.now += 3600
    refused = script.get("/api/v1/runs")
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["code"] == "token_expired"
    assert error["message"] == f"the API token {made['token_id']} expired on 2027-01-15 09:00 UTC"
    assert "legato users token" in error["hint"]
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    listed = otto.get("/api/v1/tokens").json()["tokens"]
    assert [t["state"] for t in listed] == ["expired"]


def test_the_owner_revokes_a_token_and_it_stops_at_its_next_request(store: Store, users, clock):
    app = create_app(store)
    vera = login(remote_client(app), "vera", PASSWORDS["vera"])
    made = _made(vera)
    script = _bearer(app, made["token"])
    assert script.get("/api/v1/runs").status_code == 200
    assert vera.delete(f"/api/v1/tokens/{made['token_id']}").status_code == 204
    refused = script.get("/api/v1/runs")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    assert "was revoked on 2027-01-15 08:00 UTC" in refused.json()["error"]["message"]
    assert vera.get("/api/v1/tokens").json()["tokens"][0]["state"] == "revoked"
    again = vera.delete(f"/api/v1/tokens/{made['token_id']}")
    assert again.status_code == 404 and "no active token" in again.json()["error"]["message"]


def test_an_admin_lists_and_revokes_any_user_s_tokens_and_it_is_audited(
    store: Store, users, clients
):
    made = _made(clients["operator"])
    admin = clients["admin"]
    listed = admin.get("/api/v1/users/otto/tokens").json()["tokens"]
    assert [t["token_id"] for t in listed] == [made["token_id"]] and "token" not in listed[0]
    assert admin.get("/api/v1/users/nobody/tokens").status_code == 404
    wrong_owner = admin.delete(f"/api/v1/users/vera/tokens/{made['token_id']}")
    assert wrong_owner.status_code == 404
    assert admin.delete(f"/api/v1/users/otto/tokens/{made['token_id']}").status_code == 204
    refused = _bearer(clients["admin"].app, made["token"]).get("/api/v1/runs")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    entries = admin.get("/api/v1/audit").json()["entries"]
    revoke, create = entries[0], entries[1]
    assert (revoke["action"], revoke["actor"], revoke["target"]) == ("token.revoke", "ada", "otto")
    assert revoke["detail"] == {"token_id": made["token_id"]}
    assert (create["action"], create["actor"], create["target"]) == ("token.create", "otto", "otto")


def test_a_token_ended_by_a_change_of_its_user_or_never_valid_says_so(store: Store, users):
    app = create_app(store)
    _, token = tokens.create_token(store, accounts.get_user(store, "otto"))
    accounts.update_user(store, "otto", role="viewer")
    ended = _bearer(app, token).get("/api/v1/runs").json()["error"]
    assert ended["code"] == "token_ended" and "user 'otto' was changed" in ended["message"]
    _, token = tokens.create_token(store, accounts.get_user(store, "otto"))
    accounts.update_user(store, "otto", active=False)
    assert "is deactivated" in _bearer(app, token).get("/api/v1/runs").json()["error"]["message"]
    forged = token[:-4] + "AAAA"
    for wrong in (forged, "lgt_nothing", "lgt_abc_" + "x" * 300, "not-a-token"):
        response = _bearer(app, wrong).get("/api/v1/runs")
        assert response.status_code == 401, wrong
        assert response.json()["error"]["code"] == "token_invalid", wrong


def test_the_last_use_is_written_at_most_once_a_minute(store: Store, users, clock):
    app = create_app(store)
    _, token = tokens.create_token(store, accounts.get_user(store, "vera"))
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE WEB_TOKENS"):
            writes.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        script = _bearer(app, token)
        start = clock.now
        for seconds in (0, 1, 30, 59.9):
            clock.now = start + seconds
            assert script.get("/api/v1/runs").status_code == 200
        assert len(writes) == 1
        clock.now = start + 60
        assert script.get("/api/v1/runs").status_code == 200
        assert len(writes) == 2
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    with store.read() as conn:
        assert conn.execute(select(web_tokens.c.last_used_at)).scalar() == start + 60
    vera = login(remote_client(app), "vera", PASSWORDS["vera"])
    assert vera.get("/api/v1/tokens").json()["tokens"][0]["last_used_at"] == start + 60


def test_two_servers_on_one_store_write_a_last_use_once(store: Store, users, clock):
    """The write is conditional on the stored time: of two servers that both saw a last use over
    a minute old, only the first writes."""
    other = Store(store.url)
    try:
        token_id, token = tokens.create_token(store, accounts.get_user(store, "vera"))
        assert _bearer(create_app(store), token).get("/api/v1/runs").status_code == 200
        clock.now += 61
        assert _bearer(create_app(other), token).get("/api/v1/runs").status_code == 200
        # a server that read the old time before that write, and writes only now
        assert tokens._touch(store, token_id, clock.now + 0.5) is False
        with store.read() as conn:
            assert conn.execute(select(web_tokens.c.last_used_at)).scalar() == clock.now
    finally:
        other.dispose()


def test_rows_of_tokens_ended_a_month_ago_are_deleted_when_a_token_is_made(
    store: Store, users, clock
):
    vera = accounts.get_user(store, "vera")
    old, _ = tokens.create_token(store, vera, lifetime=DAY)
    revoked, _ = tokens.create_token(store, vera, lifetime=90 * DAY)
    assert tokens.revoke_token(store, revoked, vera)
    clock.now += 20 * DAY
    tokens.create_token(store, vera)
    assert {t.token_id for t in tokens.list_tokens(store, vera)} >= {old, revoked}
    clock.now += 15 * DAY  # the first expired 34 days ago, the second was revoked 35 days ago
    newest, _ = tokens.create_token(store, vera)
    left = {t.token_id for t in tokens.list_tokens(store, vera)}
    assert old not in left and revoked not in left and newest in left
