"""Logging in and out, who the caller is, and the caller's API tokens."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from legato.errors import ConfigError
from legato.web import accounts, tokens
from legato.web.api.params import State
from legato.web.audit import audit
from legato.web.auth import (
    PROXY_HEADERS,
    SESSION_COOKIE,
    Principal,
    clear_session_cookie,
    ensure_csrf_cookie,
    login_hint,
    principal_of,
    set_session_cookie,
)
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas_auth import (
    CreatedToken,
    LoginRequest,
    PrincipalOut,
    SessionOut,
    TokenOut,
    TokenRequest,
    TokensOut,
)
from legato.web.state import WebState
from legato.web.throttle import client_key

router = APIRouter(prefix=V1, tags=["session"])
log = logging.getLogger("legato.web")


def _session_out(request: Request, response: Response, state: State) -> SessionOut:
    principal = getattr(request.state, "principal", None)
    user = None
    if principal is not None:
        user = PrincipalOut(name=principal.name, role=principal.role.value, via=principal.via)
    return SessionOut(
        user=user,
        csrf_token=ensure_csrf_cookie(request, response),
        local_mode=principal is not None and principal.via == "local",
        login_hint=login_hint(request, state) if principal is None else None,
    )


@router.get("/session", response_model=SessionOut)
def who_am_i(request: Request, response: Response, state: State) -> SessionOut:
    """The caller (``user`` is null when not logged in), and a CSRF token for state changes."""
    return _session_out(request, response, state)


@router.post("/session", response_model=SessionOut)
def log_in(body: LoginRequest, request: Request, response: Response, state: State) -> SessionOut:
    """Log in with a user name and password; sets an HttpOnly, SameSite=Strict session cookie.

    Failed logins are throttled per client address and per user name (429 with Retry-After),
    and a login arriving while the server is busy checking others gets 503 with Retry-After."""
    client = client_key(request.client.host if request.client else "")
    _warn_of_an_untrusted_proxy(request, state)
    refusal = state.throttle.check(client, body.username)
    if refusal is not None:
        raise ApiError(
            429,
            refusal.message,
            hint=f"wait {refusal.retry_after} s before trying again",
            headers={"Retry-After": str(refusal.retry_after)},
        )
    with state.hash_gate.slot() as admitted:
        if not admitted:
            raise ApiError(
                503,
                "the server is busy checking other logins",
                hint="try again in a second",
                headers={"Retry-After": "1"},
            )
        user = accounts.authenticate(state.store, body.username, body.password)
    if user is None:
        state.throttle.failed(client, body.username)
        raise ApiError(401, "wrong user name or password", field="password")
    state.throttle.succeeded(client, body.username)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.end_session(state.store, old)
    session_id = accounts.create_session(state.store, user, state.auth.session_ttl)
    set_session_cookie(request, response, session_id)
    request.state.principal = Principal(user.name, user.role, "session", user)
    return _session_out(request, response, state)


def _warn_of_an_untrusted_proxy(request: Request, state: WebState) -> None:
    """Say once when logins come through a proxy the server was not told to trust: it then sees
    every client of the proxy as one address, which the login throttle counts as one."""
    if state.auth.forwarded_allow_ips is not None or state.warned_untrusted_proxy:
        return
    if any(header in request.headers for header in PROXY_HEADERS):
        state.warned_untrusted_proxy = True
        peer = request.client.host if request.client else "?"
        log.warning(
            "logins arrive through a proxy at %s that this server does not trust: every client "
            "of it counts as that one address for login throttling; name the proxy with "
            "'legato up --forwarded-allow-ips %s'",
            peer,
            peer,
        )


@router.delete("/session", status_code=204)
def log_out(request: Request, state: State) -> Response:
    """End the caller's session (the cookie stops working at once)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        accounts.end_session(state.store, session_id)
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


def _caller_user(request: Request) -> accounts.User:
    principal = principal_of(request)
    if principal.user is None:
        raise ApiError(
            400,
            "the implicit local admin has no API tokens",
            hint="create a user with 'legato users add NAME --role admin' and log in as it",
        )
    return principal.user


def token_out(info: tokens.TokenInfo, now: float) -> TokenOut:
    return TokenOut(
        token_id=info.token_id,
        label=info.label,
        created_at=info.created_at,
        expires_at=info.expires_at,
        last_used_at=info.last_used_at,
        revoked_at=info.revoked_at,
        state=info.state(now),  # type: ignore[arg-type]
    )


@router.get("/tokens", response_model=TokensOut)
def list_tokens(request: Request, state: State) -> TokensOut:
    """The caller's API tokens, active, expired and revoked (never their secrets)."""
    user = _caller_user(request)
    now = tokens.clock()
    return TokensOut(tokens=[token_out(t, now) for t in tokens.list_tokens(state.store, user)])


@router.post("/tokens", response_model=CreatedToken, status_code=201)
def create_token(body: TokenRequest, request: Request, state: State) -> CreatedToken:
    """A new API token with the caller's role; send it as ``Authorization: Bearer <token>``.
    It lasts ``expires_in`` (e.g. ``"30d"``), or the server's default (90 days unless set)."""
    user = _caller_user(request)
    lasts = state.auth.token_lifetime
    if body.expires_in is not None:
        try:
            lasts = tokens.lifetime(body.expires_in)
        except ConfigError as exc:
            raise ApiError(400, exc.message, field="expires_in", hint=exc.hint) from None
    token_id, token = tokens.create_token(state.store, user, body.label, lifetime=lasts)
    info = next(t for t in tokens.list_tokens(state.store, user) if t.token_id == token_id)
    audit(
        state.store,
        principal_of(request).actor,
        "token.create",
        user.name,
        {"token_id": token_id, "expires_at": info.expires_at},
    )
    out = token_out(info, tokens.clock())
    return CreatedToken(**out.model_dump(), token=token)


TokenId = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[0-9a-f]+$")]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: TokenId, request: Request, state: State) -> Response:
    """Revoke one of the caller's tokens: it stops working on its next request."""
    user = _caller_user(request)
    if not tokens.revoke_token(state.store, token_id, user):
        raise ApiError(404, f"you have no active token {token_id[:16]!r}", field="token_id")
    audit(
        state.store, principal_of(request).actor, "token.revoke", user.name, {"token_id": token_id}
    )
    return Response(status_code=204)
