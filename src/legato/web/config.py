"""How the web server authenticates and what it accepts: :class:`AuthConfig` and :class:`Limits`."""

from __future__ import annotations

from dataclasses import dataclass, field

from legato.web.passwords import new_secret


@dataclass(frozen=True)
class AuthConfig:
    """Authentication settings.

    Args:
        local_admin: while the store has no active user, treat requests from a loopback client to
            a loopback host name that carry ``local_token`` as an implicit admin (the single-user
            laptop mode). ``legato up`` turns this off whenever it binds a non-loopback address.
        local_token: the secret of local mode, new for each server start unless given (``legato
            up`` prints it in the URL and writes it to ``.legato/up-token``). A client sends it
            as ``Authorization: Bearer <token>``, or opens ``/?token=<token>`` once to get it as
            a cookie. Without it nothing is trusted: a TCP forwarder or a proxy on the machine
            makes any remote client look local.
        secure_cookies: mark cookies ``Secure``; ``None`` means "when the request came over https".
        session_ttl: seconds a login session lasts.
        login_attempts: failed logins allowed per client and user name per ``login_window``.
        login_window: seconds over which failed logins are counted.
    """

    local_admin: bool = True
    local_token: str = field(default_factory=new_secret, repr=False)
    secure_cookies: bool | None = None
    session_ttl: float = 12 * 3600.0
    login_attempts: int = 10
    login_window: float = 60.0


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for (B-04, S-12)."""

    max_body_bytes: int = 1024 * 1024
    sse_max_seconds: float = 300.0  # a log stream ends then; EventSource reconnects with its id
    sse_poll_seconds: float = 0.5
    max_streams: int = 64  # open log streams at once; more get 429
