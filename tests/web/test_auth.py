"""Authentication and authorization: the role matrix from the policy table (S-03), sessions and
tokens (S-07), CSRF (S-06), the local single-user mode (S-02) and login throttling (S-12)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_helpers import (
    PASSWORDS,
    Client,
    Seeded,
    local_client,
    local_token,
    login,
    remote_client,
)

from legato.web import accounts, tokens
from legato.web.app import create_app
from legato.web.config import AuthConfig
from legato.web.policy import POLICY, PUBLIC, SIGNED, Role

ORDER = {"viewer": 1, "operator": 2, "admin": 3}


def _concrete(path: str, seeded: Seeded) -> str:
    return (
        path.replace("{run_id}", seeded.failed_run)
        .replace("{key}", "raw_orders")
        .replace("{token_id}", "abcdef")
        .replace("{name}", "zed")
        .replace("{backfill_id}", "abcdef123456")
        .replace("{trigger_id}", "nightly%230%3Acron")
        .replace("{partition_key}", "k1")
    )


BODIES = {
    ("POST", "/api/v1/runs"): {"selection": "report"},
    ("POST", "/api/v1/session"): {"username": "nobody", "password": "wrong-password"},
    ("POST", "/api/v1/tokens"): {"label": "matrix"},
    ("PATCH", "/api/v1/users/{name}"): {"role": "viewer"},
    ("POST", "/api/v1/runs/{run_id}/rerun"): {"from_failure": True},
    ("POST", "/api/v1/partitions/sets/{name}"): {"keys": ["k1"]},
}


def test_every_route_allows_exactly_the_roles_the_policy_table_names(seeded: Seeded, clients):
    accounts.add_user(seeded.store, "zed", "viewer", "zed-password-1")
    routes = sorted(POLICY.items(), key=lambda item: item[0] == ("DELETE", "/api/v1/session"))
    for (method, path), access in routes:
        url = _concrete(path, seeded)
        for who in ("anon", "viewer", "operator", "admin"):
            kwargs = {"json": BODIES[(method, path)]} if (method, path) in BODIES else {}
            if (method, path) == ("DELETE", "/api/v1/session") and who != "anon":
                continue  # logging out is checked below, once the matrix is done
            if (method, path) == ("POST", "/api/v1/session"):
                continue  # public; a wrong password is its own 401 (test_bad_credentials_...)
            if access == SIGNED:
                continue  # roles do not apply: the signature is checked (test_webhooks.py)
            status = clients[who].request(method, url, **kwargs).status_code
            if access == PUBLIC:
                allowed = True
            elif who == "anon":
                allowed = False
            else:
                assert isinstance(access, Role)
                allowed = ORDER[who] >= ORDER[access.value]
            if allowed:
                assert status not in (401, 403), (method, path, who, status)
            else:
                assert status == (401 if who == "anon" else 403), (method, path, who, status)
    for who in ("viewer", "operator", "admin"):
        assert clients[who].delete("/api/v1/session").status_code == 204


def test_logout_ends_the_session_on_the_next_request(app, users):
    client = login(remote_client(app), "vera", PASSWORDS["vera"])
    assert client.get("/api/v1/runs").status_code == 200
    stolen = client.cookies.get("legato_session")
    assert client.delete("/api/v1/session").status_code == 204
    replay = remote_client(app)
    replay.cookies.set("legato_session", stolen)
    assert replay.get("/api/v1/runs").status_code == 401


def test_role_change_and_deactivation_end_sessions_and_tokens(app, store, users):
    client = login(remote_client(app), "otto", PASSWORDS["otto"])
    token = client.post("/api/v1/tokens", json={"label": "ci"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert remote_client(app).get("/api/v1/runs", headers=bearer).status_code == 200
    accounts.update_user(store, "otto", role="viewer")
    assert client.get("/api/v1/runs").status_code == 401
    assert remote_client(app).get("/api/v1/runs", headers=bearer).status_code == 401
    again = login(remote_client(app), "otto", PASSWORDS["otto"])
    assert again.get("/api/v1/session").json()["user"]["role"] == "viewer"
    accounts.update_user(store, "otto", active=False)
    assert again.get("/api/v1/runs").status_code == 401
    refused = remote_client(app).post(
        "/api/v1/session", json={"username": "otto", "password": PASSWORDS["otto"]}
    )
    assert refused.status_code == 401


def test_admin_role_change_over_the_api_is_audited_and_immediate(clients, store):
    response = clients["admin"].patch("/api/v1/users/otto", json={"role": "viewer"})
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    assert clients["operator"].get("/api/v1/runs").status_code == 401
    audit = clients["admin"].get("/api/v1/audit").json()["entries"]
    assert audit[0]["action"] == "user.update" and audit[0]["target"] == "otto"
    selfie = clients["admin"].patch("/api/v1/users/ada", json={"active": False})
    assert selfie.status_code == 409


def test_tokens_are_listed_without_secrets_and_revocable(clients):
    viewer = clients["viewer"]
    created = viewer.post("/api/v1/tokens", json={"label": "laptop"}).json()
    listed = viewer.get("/api/v1/tokens").json()["tokens"]
    assert [t["token_id"] for t in listed] == [created["token_id"]]
    assert "token" not in listed[0]
    assert viewer.delete(f"/api/v1/tokens/{created['token_id']}").status_code == 204
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert viewer.get("/api/v1/runs", headers=bearer).status_code == 401
    assert viewer.delete(f"/api/v1/tokens/{created['token_id']}").status_code == 404


def test_bad_credentials_are_401_with_the_error_shape(app, users):
    client = remote_client(app)
    wrong = client.post("/api/v1/session", json={"username": "vera", "password": "nope-nope-1"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthenticated"
    for header in ("Basic abc", "Bearer lgt_nothing_here", "Bearer"):
        response = client.get("/api/v1/runs", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_failed_logins_are_throttled(store, users):
    app = create_app(store, auth=AuthConfig(login_attempts=3, login_window=60))
    client = remote_client(app)
    for _ in range(3):
        client.post("/api/v1/session", json={"username": "vera", "password": "guess-guess-1"})
    right = client.post("/api/v1/session", json={"username": "vera", "password": PASSWORDS["vera"]})
    assert right.status_code == 429


def test_state_changes_need_the_csrf_token_and_same_origin(clients):
    operator = clients["operator"]
    plain = Client.__mro__[1].request  # the TestClient method, without the CSRF header
    no_token = plain(operator, "POST", "/api/v1/runs", json={"selection": "*"})
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf"
    token = operator.cookies.get("legato_csrf")
    cross = plain(
        operator,
        "POST",
        "/api/v1/runs",
        json={"selection": "*"},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    site = plain(
        operator,
        "POST",
        "/api/v1/runs",
        json={"selection": "*"},
        headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
    )
    assert site.status_code == 403


def test_api_tokens_need_no_csrf_token(seeded: Seeded, app, users):
    user = accounts.get_user(seeded.store, "otto")
    _, token = tokens.create_token(seeded.store, user)
    client = remote_client(app)
    response = Client.__mro__[1].request(
        client,
        "POST",
        "/api/v1/runs",
        json={"selection": "*"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.json()["run"]["trigger"] == "api:otto"


@pytest.mark.parametrize(
    ("base_url", "client_addr", "headers", "admin"),
    [
        ("http://127.0.0.1:8642", "127.0.0.1", {}, True),
        ("http://localhost:8642", "::1", {}, True),
        ("http://127.0.0.1:8642", "10.0.0.7", {}, False),  # a remote peer
        ("http://attacker.example", "127.0.0.1", {}, False),  # DNS rebinding: foreign Host
        ("http://127.0.0.1:8642", "127.0.0.1", {"X-Forwarded-For": "8.8.8.8"}, False),  # a proxy
    ],
)
def test_implicit_local_admin_only_for_loopback_without_users(
    store, base_url, client_addr, headers, admin
):
    app = create_app(store)
    client = Client(app, base_url=base_url, client=(client_addr, 40000))
    client.cookies.set("legato_local", local_token(app))
    status = client.get("/api/v1/runs", headers=headers).status_code
    assert status == (200 if admin else 401)


def test_local_mode_without_the_token_is_401_saying_where_it_is_printed(store):
    # a TCP forwarder on the machine (socat, ssh -R) delivers remote clients from 127.0.0.1 with
    # whatever Host they send: everything local mode checks holds, except the token
    app = create_app(store)
    forwarded = local_client(app, token=False)
    response = forwarded.get("/api/v1/runs")
    assert response.status_code == 401
    hint = response.json()["error"]["hint"]
    assert "'legato up' printed" in hint and ".legato/up-token" in hint and "?token=" in hint
    assert forwarded.get("/api/v1/session").json()["login_hint"] == hint
    for wrong in ("x" * 43, local_token(create_app(store))):  # a guess; another start's token
        bad = forwarded.get("/api/v1/runs", headers={"Authorization": f"Bearer {wrong}"})
        assert bad.status_code == 401
        forwarded.cookies.set("legato_local", wrong)
        assert forwarded.get("/api/v1/runs").status_code == 401
    assert remote_client(app).get("/api/v1/session").json()["login_hint"] is None


def test_the_printed_url_sets_an_httponly_strict_cookie_and_drops_the_token(store):
    app = create_app(store)
    browser = local_client(app, token=False)
    opened = browser.get(f"/?token={local_token(app)}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("legato_local=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    assert browser.get("/api/v1/session").json()["user"]["via"] == "local"
    assert browser.post("/api/v1/runs", json={"selection": "*"}).status_code == 409  # admitted
    stranger = local_client(app, token=False)
    refused = stranger.get("/?token=guess-guess-guess", follow_redirects=False)
    assert refused.status_code == 303 and "set-cookie" not in refused.headers
    assert stranger.get("/api/v1/runs").status_code == 401


def test_the_local_token_as_a_bearer_header_needs_no_csrf_and_ends_with_the_first_user(store):
    app = create_app(store)
    bearer = {"Authorization": f"Bearer {local_token(app)}"}
    script = TestClient(app, base_url="http://127.0.0.1:8642", client=("127.0.0.1", 1))
    script.headers.update(bearer)
    launched = script.post("/api/v1/runs", json={"selection": "*"})  # no CSRF token sent
    assert launched.status_code == 409 and launched.json()["error"]["code"] == "no_definitions"
    assert script.get("/api/v1/runs").status_code == 200
    accounts.add_user(store, "ada", "admin", PASSWORDS["ada"])
    ended = script.get("/api/v1/runs")
    assert ended.status_code == 401 and "no user" in ended.json()["error"]["message"]


def test_local_admin_ends_when_the_first_user_exists_or_is_disabled(store):
    client = local_client(create_app(store))
    assert client.get("/api/v1/runs").status_code == 200
    accounts.add_user(store, "ada", "admin", PASSWORDS["ada"])
    assert client.get("/api/v1/runs").status_code == 401
    off = local_client(create_app(store, auth=AuthConfig(local_admin=False)))
    accounts.update_user(store, "ada", active=False)
    assert off.get("/api/v1/runs").status_code == 401
