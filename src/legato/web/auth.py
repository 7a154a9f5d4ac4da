"""Who is calling, and may they: every route depends on :func:`authorize`.

Credentials, in order: an ``Authorization: Bearer …`` header (an API token ``lgt_…``, or the
local-mode token); the ``legato_session`` cookie of a login; the ``legato_local`` cookie holding
the local-mode token. The local-mode token makes the caller an implicit local admin, and only in
the local single-user mode (see :func:`_local_mode` for when that applies). State-changing
requests that do not carry an Authorization header must also pass the CSRF check: a same-origin
``Origin`` (if sent) and an ``X-CSRF-Token`` header equal to the ``legato_csrf`` cookie (double
submit).
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from fastapi import Request, Response

from legato.web import accounts, tokens
from legato.web.accounts import User
from legato.web.errors import ApiError
from legato.web.passwords import new_secret
from legato.web.policy import PUBLIC, SIGNED, Role, access_for
from legato.web.state import WebState, web_state

SESSION_COOKIE = "legato_session"
LOCAL_COOKIE = "legato_local"
CSRF_COOKIE = "legato_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


@dataclass(frozen=True)
class Principal:
    """The caller: a user (by session or token) or the implicit local admin."""

    name: str
    role: Role
    via: str  # "session" | "token" | "local"
    user: User | None = None
    token_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names the caller."""
        if self.via == "local":
            return "local"
        if self.via == "token":
            return f"{self.name} (token {self.token_id})"
        return self.name


def authorize(request: Request) -> None:
    """The dependency on every API route: look up the route's access in the policy table,
    identify the caller, and refuse with 401/403 unless the caller's role allows it."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    access = access_for(request.method, path) if isinstance(path, str) else None
    if access is None:  # fail closed: a route nobody classified is served to nobody
        raise ApiError(
            403,
            f"route {request.method} {path} is not in the policy table",
            hint="add it to legato.web.policy.POLICY",
        )
    if access == SIGNED:  # a machine caller; the route verifies the body's signature
        request.state.principal = None
        return
    state = web_state(request)
    principal = identify(request, state)
    request.state.principal = principal
    if access != PUBLIC and principal is None:
        raise ApiError(
            401,
            "this route needs a login",
            hint=login_hint(request, state)
            or "log in at / (or POST /api/v1/session), or send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="legato"'},
        )
    if request.method in _UNSAFE and "authorization" not in request.headers:
        check_csrf(request)  # a header credential is never sent by a browser on its own
    if access == PUBLIC or principal is None:
        return
    assert isinstance(access, Role)
    if not principal.role.allows(access):
        raise ApiError(
            403,
            f"{principal.name!r} has the {principal.role} role; this needs {access} or above",
            hint="ask an admin to change your role with 'legato users set-role'",
        )


def identify(request: Request, state: WebState) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "the Authorization header is not 'Bearer <token>'")
        if is_local_token(token.strip(), state):
            if _local_mode(request, state):
                return Principal("local", Role.ADMIN, "local")
            raise ApiError(
                401,
                "the local-mode token works only from this machine while the store has no user",
                hint="log in, or send an API token ('legato users token NAME')",
            )
        checked = tokens.check_token(state.store, token.strip())
        if checked.user is None:
            raise ApiError(
                401,
                checked.problem,
                code=checked.code,
                hint=tokens.RENEW_HINT,
                headers={"WWW-Authenticate": 'Bearer realm="legato", error="invalid_token"'},
            )
        user = checked.user
        return Principal(user.name, user.role, "token", user, checked.token_id)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and len(session_id) < 200:
        user_or_none = accounts.session_user(state.store, session_id)
        if user_or_none is not None:
            return Principal(user_or_none.name, user_or_none.role, "session", user_or_none)
    local = request.cookies.get(LOCAL_COOKIE)
    if local and is_local_token(local, state) and _local_mode(request, state):
        return Principal("local", Role.ADMIN, "local")
    return None


def principal_of(request: Request) -> Principal:
    """The authenticated caller of a non-public route."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise ApiError(401, "this route needs a login")
    return found


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_token(given: str, state: WebState) -> bool:
    """Whether ``given`` is this server's local-mode token (compared in constant time)."""
    expected = state.auth.local_token
    return (
        state.auth.local_admin
        and len(expected) >= 16
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def login_hint(request: Request, state: WebState) -> str | None:
    """What to do in local mode without the token (None outside local mode)."""
    if not _local_mode(request, state):
        return None
    return (
        "local mode: open the URL that 'legato up' printed (http://127.0.0.1:<port>/?token=…), "
        "or send 'Authorization: Bearer <token>' with the token in .legato/up-token of the "
        "project directory"
    )


def _local_mode(request: Request, state: WebState) -> bool:
    """Whether the local-mode token may make this caller the implicit local admin: local mode
    is enabled (``legato up`` disables it for any non-loopback bind); the TCP peer is a loopback
    address; the Host header names a loopback host (defeats DNS rebinding from a web page); no
    proxy header is present (a reverse proxy on this machine would make remote clients look
    local); and the store has no active user yet. None of these can tell a TCP forwarder from
    a local client: the token is what proves the caller was told the URL."""
    if not state.auth.local_admin:
        return False
    client = request.client.host if request.client else ""
    if not _is_loopback(client):
        return False
    host = request.headers.get("host", "")
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if hostname.lower() not in _LOOPBACK_NAMES:
        return False
    if any(h in request.headers for h in PROXY_HEADERS):
        return False
    return accounts.count_active_users(state.store) == 0


def check_csrf(request: Request) -> None:
    """Refuse a state change from another site: cross-site Origin or Fetch metadata, or a
    missing/mismatched double-submit token."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise ApiError(403, "cross-site request refused", code="csrf", field="Origin")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise ApiError(403, "cross-site request refused", code="csrf", field="Sec-Fetch-Site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise ApiError(
            403,
            "missing or wrong CSRF token",
            code="csrf",
            field="X-CSRF-Token",
            hint="send the legato_csrf cookie's value in the X-CSRF-Token header "
            "(GET /api/v1/session sets the cookie), or use an API token",
        )


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _secure(request: Request, state: WebState) -> bool:
    if state.auth.secure_cookies is not None:
        return state.auth.secure_cookies
    return request.url.scheme == "https"


def ensure_csrf_cookie(request: Request, response: Response) -> str:
    """Set the CSRF cookie if the caller has none; return its value."""
    value = request.cookies.get(CSRF_COOKIE)
    if value and 20 <= len(value) <= 100:
        return value
    value = new_secret()
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=False,  # the UI reads it to echo it in X-CSRF-Token
        samesite="strict",
        secure=_secure(request, web_state(request)),
        path="/",
    )
    return value


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    state = web_state(request)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(state.auth.session_ttl),
        httponly=True,
        samesite="strict",
        secure=_secure(request, state),
        path="/",
    )


def set_local_cookie(request: Request, response: Response, token: str) -> None:
    """Keep the local-mode token in a cookie the page's scripts cannot read."""
    response.set_cookie(
        LOCAL_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, web_state(request)),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
