"""The one error shape for every 4xx and 5xx: ``{"error": {"code", "message", "field", "hint"}}``.

Bad input is a 4xx that names the field and the fix; an unreachable store, or definitions this
server cannot read, a 503 that says which and the fix; anything else is a 500 whose body says
only that (the traceback goes to the server log, never the client).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from legato.errors import (
    LegatoError,
    NotFoundError,
    RunConfigError,
    SelectionError,
    SnapshotError,
    StoreError,
)
from legato.events.transitions import IllegalTransition

log = logging.getLogger("legato.web")

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_config",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise from a route to answer with the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        hint: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.field = field
        self.hint = hint
        self.extra = extra or {}
        self.headers = headers


def error_body(
    code: str, message: str, field: str | None = None, hint: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, "hint": hint, **extra}}


def error_response(exc: ApiError) -> JSONResponse:
    body = error_body(exc.code, exc.message, exc.field, exc.hint, **exc.extra)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def _field_of(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else None)


def invalid_request(exc: RequestValidationError, status: int = 400) -> ApiError:
    """The first problem of a request that failed validation, naming its field."""
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = _field_of(first.get("loc", ()))
    message = str(first.get("msg", "invalid request"))
    if first.get("type") == "json_invalid":
        message, field = "the request body is not valid JSON", "body"
    hint = "see the API reference at /api/v1/openapi.json for the expected shape"
    shown = f"{field}: {message}" if field else message
    code = "invalid_request" if status == 422 else None
    return ApiError(status, shown[:500], code=code, field=field, hint=hint)


# Well-formed requests whose values cannot be taken: 422, as a config the steps refuse.
_UNPROCESSABLE = {"non_finite_number"}


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    status = 422 if first.get("type") in _UNPROCESSABLE else 400
    return error_response(invalid_request(exc, status))


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else _CODES.get(exc.status_code, "error")
    hint = None
    if exc.status_code == 404:
        message, hint = "no such route", "the API lives under /api/v1; see /api/v1/openapi.json"
    elif exc.status_code == 405:
        hint = "see /api/v1/openapi.json for the methods each route accepts"
    code = _CODES.get(exc.status_code, "error")
    return error_response(ApiError(exc.status_code, message, code=code, hint=hint))


def _api(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


def _legato(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LegatoError)
    if isinstance(exc, RunConfigError):  # well-formed, but not what the steps' models accept
        return error_response(
            ApiError(
                422, exc.message, field="config", hint=exc.hint, extra={"problems": exc.problems}
            )
        )
    if isinstance(exc, NotFoundError):
        status = 404
    elif isinstance(exc, SnapshotError):  # until the definitions are recorded again
        log.warning("%s", exc)
        status = 503
    elif isinstance(exc, StoreError):
        log.warning("store unavailable: %s", exc)
        if getattr(request.state, "principal", None) is None:  # the health probe, or not known
            # yet: the database's URL and its driver's error are for the server's log only
            return error_response(
                ApiError(503, "the store is unavailable", hint="the server's log says why")
            )
        status = 503
    elif isinstance(exc, IllegalTransition):
        status = 409
    else:
        status = 400
    field = "selection" if isinstance(exc, SelectionError) else None
    return error_response(ApiError(status, exc.message, field=field, hint=exc.hint))


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in the web server", exc_info=exc)
    return error_response(
        ApiError(500, "the server failed to answer this request", hint="see the server log")
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(LegatoError, _legato)
    app.add_exception_handler(Exception, _unexpected)
