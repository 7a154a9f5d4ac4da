"""Failed-login throttling, kept in the store so that every server on it counts the same failures.

Two limits, each with its own purpose:

- **Per client address**: after ``login_attempts`` failures in ``login_window`` seconds, whatever
  the user names tried, the address is refused (429) until the oldest of them leaves the window.
  This is what stops one source from guessing, and from spraying many names to dodge a per-name
  count. IPv6 clients are counted per /64 network (one host usually holds a whole /64).
- **Per user name**: failures for one name from every address count; past ``login_name_attempts``
  in the window, each further attempt must wait ``2**k`` seconds (k = 0, 1, 2…) after the latest
  failure, at most ``login_name_max_delay``. This bounds the rate of a distributed guess at one
  account. It only delays, it never locks: the owner, from anywhere, waits at most
  ``login_name_max_delay`` seconds. And one address cannot reach it at all, as long as
  ``login_name_attempts`` is at least ``login_attempts`` (its default is three times as many):
  the per-address limit stops that address first. So one attacker cannot lock a user out.

A success clears the failures of that address for that name (a user who mistyped), not the
address's failures for other names. Requests refused by the throttle cost no password hash and
are not counted.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from legato.store.engine import Store
from legato.store.schema_web import web_login_failures
from legato.web.config import AuthConfig

_F = web_login_failures.c


def client_key(host: str | None) -> str:
    """What failures are counted under for a client address: the IPv4 address (also when mapped
    into IPv6), the /64 network of an IPv6 address, or the text itself for anything else."""
    text = (host or "").strip("[]")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class Refusal:
    """Why a login attempt is refused before its password is checked, and for how long."""

    message: str
    retry_after: int  # whole seconds, at least 1


class LoginThrottle:
    """Counts failed logins in ``web_login_failures``; see the module for the two limits."""

    def __init__(
        self, store: Store, auth: AuthConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.attempts, self.window = auth.login_attempts, auth.login_window
        self.name_attempts = auth.login_name_attempts
        self.name_max_delay = auth.login_name_max_delay
        self.clock = clock  # wall-clock time: servers on other machines share the rows

    def check(self, client: str, name: str) -> Refusal | None:
        """None if an attempt from ``client`` for ``name`` may go on to the password check."""
        now = self.clock()
        cutoff = now - self.window
        recent = _F.ts > cutoff
        with self.store.read() as conn:
            # the attempts-th latest failure of the address: while it is in the window, so are
            # at least `attempts` failures
            nth = conn.execute(
                select(_F.ts)
                .where(_F.client == client, recent)
                .order_by(_F.ts.desc())
                .offset(self.attempts - 1)
                .limit(1)
            ).scalar()
            count, latest = conn.execute(
                select(func.count(), func.max(_F.ts)).where(_F.name == name, recent)
            ).one()
        if nth is not None:
            return Refusal(
                f"too many failed logins from this address ({self.attempts} in "
                f"{_seconds(self.window)})",
                _whole(float(nth) + self.window - now),
            )
        if count >= self.name_attempts and latest is not None:
            delay = min(self.name_max_delay, 2.0 ** min(count - self.name_attempts, 30))
            wait = float(latest) + delay - now
            if wait > 0:
                return Refusal(
                    "too many failed logins for this user name lately: each attempt now waits "
                    f"{_seconds(delay)} after the last failure",
                    _whole(wait),
                )
        return None

    def failed(self, client: str, name: str) -> None:
        now = self.clock()
        with self.store.transaction() as conn:
            conn.execute(delete(web_login_failures).where(_F.ts <= now - self.window))
            conn.execute(insert(web_login_failures).values(ts=now, client=client, name=name[:64]))

    def succeeded(self, client: str, name: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                delete(web_login_failures).where(_F.client == client, _F.name == name[:64])
            )


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def _seconds(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 120 else f"{seconds / 60:g} min"
