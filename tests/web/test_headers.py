"""S-06, S-11: CSP, framing, no-store, cookies, closed CORS."""

from __future__ import annotations

from web_helpers import PASSWORDS, local_client, remote_client

from legato.web.app import create_app
from legato.web.config import AuthConfig


def test_security_headers_on_api_ui_and_errors(store):
    client = local_client(create_app(store))
    for path, cache in (
        ("/api/v1/runs", "no-store"),
        ("/", "no-store"),
        ("/nope", "no-store"),
        ("/ui/app.css", "no-cache"),
    ):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["cache-control"] == cache, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_no_cors_headers_even_for_a_foreign_origin(store):
    client = local_client(create_app(store))
    response = client.get("/api/v1/runs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/api/v1/runs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_session_cookie_is_httponly_strict_and_secure_on_https(store, users):
    app = create_app(store, auth=AuthConfig(secure_cookies=None))
    client = remote_client(app)
    client.base_url = "https://legato.example"
    client.get("/api/v1/session")
    response = client.post(
        "/api/v1/session", json={"username": "vera", "password": PASSWORDS["vera"]}
    )
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("legato_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Secure" in session
    assert "Path=/" in session


def test_index_has_no_inline_script_or_handlers():
    from legato.web.api.ui import UI_DIR

    html = (UI_DIR / "index.html").read_text()
    assert "<script>" not in html and " on" not in html.replace(" onl", "")
    for path in (UI_DIR / "js").rglob("*.js"):
        text = path.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path
        assert "eval(" not in text and "new Function" not in text, path
