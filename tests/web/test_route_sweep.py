"""S-01: a sweep generated from the app's router. Every route must be classified in the policy
table, and without credentials every route answers 401 except the exact public allow-list."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.routing import Mount
from web_helpers import local_client, remote_client

from legato.web.app import create_app
from legato.web.policy import POLICY, PUBLIC, PUBLIC_MOUNTS, SIGNED

PUBLIC_ALLOW_LIST = {
    ("GET", "/api/v1/health"),
    ("GET", "/"),
    ("GET", "/api/v1/session"),
    ("POST", "/api/v1/session"),
}


def _routes(app):  # type: ignore[no-untyped-def]
    """Every route of the app, also through FastAPI's included routers (any FastAPI version)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers became lazy
        return list(app.routes)
    return [context.original_route for context in iter_route_contexts(app.routes)]


def test_every_route_is_in_the_policy_table(store):
    app = create_app(store)
    seen = set()
    for route in _routes(app):
        if isinstance(route, APIRoute):
            for method in route.methods:
                assert (method, route.path) in POLICY, f"{method} {route.path} is not classified"
                seen.add((method, route.path))
        elif isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"mount {route.path} is not classified"
        else:
            raise AssertionError(f"unexpected route type {type(route).__name__}: {route!r}")
    assert seen == set(POLICY), f"policy entries without a route: {set(POLICY) - seen}"


def test_public_routes_are_exactly_the_allow_list():
    assert {k for k, v in POLICY.items() if v == PUBLIC} == PUBLIC_ALLOW_LIST
    assert {k for k, v in POLICY.items() if v == SIGNED} == {
        ("POST", "/api/v1/webhooks/{pipeline}")
    }


def test_without_credentials_every_other_route_is_401(store):
    app = create_app(store)
    client = remote_client(app)
    for route in _routes(app):
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "abc123", route.path)
        for method in route.methods:
            response = client.request(method, path, json={})
            if (method, route.path) in PUBLIC_ALLOW_LIST:
                assert response.status_code not in (401, 403) or route.path.endswith("/session")
            elif POLICY[(method, route.path)] == SIGNED:  # webhooks: the signature is the login
                assert response.status_code == 401, (method, path, response.status_code)
            else:
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.json()["error"]["code"] == "unauthenticated"


def test_every_operation_of_the_openapi_spec_refuses_anonymous_callers(store):
    """The published spec, walked as an outsider would: from another machine, and through a TCP
    forwarder on the server's machine (a loopback peer without local mode's token). Only the
    public routes answer; the webhook route wants its signature."""
    app = create_app(store)
    spec = app.openapi()
    operations = {
        (method.upper(), path) for path, methods in spec["paths"].items() for method in methods
    }
    assert operations == {key for key in POLICY if key[1] not in ("/", "/api/v1/openapi.json")}
    for client in (remote_client(app), local_client(app, token=False)):
        for method, path in sorted(operations):
            url = re.sub(r"\{[^}]+\}", "abc123", path)
            response = client.request(method, url, json={})
            if (method, path) in PUBLIC_ALLOW_LIST:
                assert response.status_code not in (401, 403), (method, path)
            else:
                assert response.status_code == 401, (method, path, response.status_code)
    assert remote_client(app).get("/api/v1/openapi.json").status_code == 401


def test_static_files_serve_no_data_and_refuse_traversal(store):
    client = remote_client(create_app(store))
    assert client.get("/ui/js/main.js").status_code == 200
    for path in ("/ui/../store/engine.py", "/ui/%2e%2e/web/app.py", "/ui/nope.js"):
        assert client.get(path).status_code == 404, path
