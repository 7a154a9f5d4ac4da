"""How the web server authenticates and what it accepts: :class:`AuthConfig` and :class:`Limits`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from legato.web.passwords import new_secret


def default_hash_slots() -> int:
    """Password checks at once: one on a machine of two CPUs or fewer, else two. Either way a
    CPU stays free for everything else the server does while logins are hammered."""
    try:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may use
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(2, max(1, cpus - 1))


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
        login_attempts: failed logins allowed per client address (whatever the user names) per
            ``login_window``; then that address is refused until the window frees up.
        login_window: seconds over which failed logins are counted.
        login_name_attempts: failed logins for one user name (from every address) per
            ``login_window`` before each further attempt for it is delayed; keep it at least
            ``login_attempts``, so that one address alone never delays a user.
        login_name_max_delay: the longest delay a user name's attempts get (1, 2, 4… seconds
            after its latest failure, up to this).
        login_hash_slots: password checks this server computes at once (scrypt, 16 MiB each);
            a login arriving while all are busy gets 503 with ``Retry-After`` instead of
            waiting for CPU. Default: :func:`default_hash_slots`.
        token_lifetime: seconds an API token made through the API lasts unless the request
            says otherwise (``legato up`` takes it from the ``api_token_expiry`` setting).
        forwarded_allow_ips: the reverse proxies (comma-separated addresses or networks, or
            ``*``) whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed: the client
            address (login throttling) and scheme (``Secure`` cookies, the CSRF origin) are then
            the ones the proxy reports. None: proxy headers are never believed.
    """

    local_admin: bool = True
    local_token: str = field(default_factory=new_secret, repr=False)
    secure_cookies: bool | None = None
    session_ttl: float = 12 * 3600.0
    login_attempts: int = 10
    login_window: float = 60.0
    login_name_attempts: int = 30
    login_name_max_delay: float = 30.0
    login_hash_slots: int = field(default_factory=default_hash_slots)
    token_lifetime: float = 90 * 86400.0
    forwarded_allow_ips: str | None = None


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for (B-04, S-12)."""

    max_body_bytes: int = 1024 * 1024
    sse_max_seconds: float = 300.0  # a log stream ends then; EventSource reconnects with its id
    sse_poll_seconds: float = 0.5
    max_streams: int = 64  # open log streams at once; more get 429
