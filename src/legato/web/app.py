"""The app factory: REST API under /api/v1, the UI at /, and the middleware around both.

FastAPI rather than bare Starlette: the request and response models that validate input at the
boundary also generate the OpenAPI spec, so the spec cannot drift from the code, and schemathesis
tests the server against it. The cost is Pydantic, imported only when the server starts.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from legato.store.engine import Store
from legato.store.snapshots import DEFAULT_LOCATION
from legato.web.api import (
    admin,
    alerts,
    asset_partitions,
    assets,
    automation,
    backfills,
    checks,
    definitions,
    freshness,
    logs,
    partition_sets,
    run_actions,
    runs,
    session,
    system,
    ui,
    webhooks,
)
from legato.web.auth import authorize
from legato.web.catalog import Catalog
from legato.web.config import AuthConfig, Limits
from legato.web.errors import install_error_handlers
from legato.web.middleware import BodyLimit, SecurityHeaders
from legato.web.policy import V1
from legato.web.schemas import ErrorOut
from legato.web.state import DaemonStatus, WebState

API_ROUTERS = (
    system,
    session,
    definitions,
    assets,
    checks,
    asset_partitions,
    partition_sets,
    runs,
    run_actions,
    logs,
    backfills,
    automation,
    freshness,
    alerts,
    admin,
    webhooks,
)


def create_app(
    store: Store,
    *,
    auth: AuthConfig | None = None,
    daemon_status: DaemonStatus | None = None,
    limits: Limits | None = None,
    location: str = DEFAULT_LOCATION,
) -> FastAPI:
    """The web app over ``store``.

    Args:
        store: where runs, logs and definitions are read and run requests are written.
        auth: authentication settings (default: :class:`AuthConfig`, i.e. local mode allowed).
        daemon_status: returns the automation daemon's status for ``/api/v1/health`` and the
            overview; None when no daemon runs in this process.
        limits: request bounds (default: :class:`Limits`).
        location: the project's name: whose recorded definitions it shows.
    """
    app = FastAPI(
        title="Legato",
        version=_version(),
        summary="Runs, assets, logs and lineage of a Legato project.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(authorize)],
    )
    limits = limits or Limits()
    catalog = Catalog(store, location)
    app.state.legato = WebState(store, auth or AuthConfig(), limits, daemon_status, catalog)
    catalog.warm()
    install_error_handlers(app)
    for module in API_ROUTERS:
        app.include_router(module.router)
    app.include_router(ui.router)
    app.mount("/ui", StaticFiles(directory=ui.UI_DIR), name="ui")

    @app.get(f"{V1}/openapi.json", include_in_schema=False)
    def openapi_spec(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    trusted = app.state.legato.auth.forwarded_allow_ips
    if trusted is not None:  # outermost: every layer sees the client and scheme the proxy reports
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("legato")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec, with the responses this API really gives: 400 (not FastAPI's 422) for
    bad input, 422 only for a run config that does not fit its steps' models,
    401/403/404/503 everywhere and 409/413/429 on writes, all with the one error shape."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorOut"] = error_schema
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    for methods in spec.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422")):  # FastAPI's, never sent
                responses.pop("422")
            # A bad credential is a 401 and a failed CSRF check a 403 even on public routes.
            codes = ["400", "401", "403", "404", "503"]
            if method != "get":
                codes += ["409", "413", "429"]
            for code in codes:
                responses.setdefault(code, error)
    for schema in list(components):
        if schema in ("HTTPValidationError", "ValidationError"):
            components.pop(schema)
    app.openapi_schema = spec
    return spec
