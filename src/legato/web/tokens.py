"""API tokens (``lgt_<id>_<secret>``): made for a user with an expiry, checked on every request
that sends one, their last use recorded, revocable one by one.

A token authenticates while it is not revoked, has not expired, and its user is active and at
the generation the token was made under (a role, password or activation change ends every token
of the user). When one of these fails the caller is told which, and since when: only whoever
holds the token's secret can ask, so this tells nobody anything they could not know.

The last use is written at most once a minute per token (a conditional update, so several
servers on one store also write it once), not on every request. Rows of tokens revoked or
expired more than :data:`KEEP_ENDED` ago are deleted when a token is made.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Row, delete, func, insert, or_, select, update

from legato._internal.durations import format_duration, parse_duration
from legato.errors import ConfigError
from legato.store.engine import Store
from legato.store.schema_web import web_tokens, web_users
from legato.web.accounts import User, user_from_row
from legato.web.passwords import digest, new_secret

TOKEN_PREFIX = "lgt_"  # noqa: S105 - a prefix that marks a string as a Legato token
DEFAULT_LIFETIME = 90 * 86400.0
MIN_LIFETIME = 60.0
MAX_LIFETIME = 3650 * 86400.0
TOUCH_EVERY = 60.0  # seconds between two writes of a token's last use
KEEP_ENDED = 30 * 86400.0
RENEW_HINT = "create a new one: 'legato users token NAME' on the server, or the Tokens page"

clock: Callable[[], float] = time.time  # what "now" is (tests move it)

_T, _U = web_tokens.c, web_users.c


@dataclass(frozen=True)
class TokenInfo:
    """What is shown of a token: never its secret."""

    token_id: str
    label: str
    created_at: float
    expires_at: float
    last_used_at: float | None
    revoked_at: float | None

    def state(self, now: float) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class TokenCheck:
    """Who a token authenticates (``user``), or why it does not (``problem`` and ``code``)."""

    user: User | None = None
    token_id: str | None = None
    problem: str = ""
    code: str = "token_invalid"


def lifetime(value: object, *, where: str = "expires_in") -> float:
    """Seconds a token made now should last: a duration such as ``"30d"``, ``"12h"``."""
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(
            f"{where}: {exc}", obj=where, hint='write a duration such as "30d", "12h" or "90d"'
        ) from None
    if not MIN_LIFETIME <= seconds <= MAX_LIFETIME:
        raise ConfigError(
            f"{where}: a token must last from {format_duration(MIN_LIFETIME)} to "
            f"{format_duration(MAX_LIFETIME)}, not {format_duration(seconds)}",
            obj=where,
            hint='write a duration such as "30d"',
        )
    return seconds


def create_token(
    store: Store, user: User, label: str = "", *, lifetime: float = DEFAULT_LIFETIME
) -> tuple[str, str]:
    """A new API token for ``user`` lasting ``lifetime`` seconds: ``(token_id, token)``; the
    token is shown once (only its digest is stored)."""
    token_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{token_id}_{new_secret()}"
    now = clock()
    with store.transaction() as conn:
        ended = func.coalesce(_T.revoked_at, _T.expires_at) < now - KEEP_ENDED
        conn.execute(delete(web_tokens).where(ended))
        conn.execute(
            insert(web_tokens).values(
                token_id=token_id,
                token_hash=digest(token),
                user_id=user.user_id,
                label=label,
                generation=user.generation,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return token_id, token


def check_token(store: Store, token: str) -> TokenCheck:
    """Whom ``token`` authenticates now, recording its use; or why it does not."""
    token_id = _token_id(token)
    if token_id is None:
        return TokenCheck(problem="the API token is not valid (not a Legato API token)")
    query = (
        select(web_users, _T.token_hash, _T.generation.label("token_generation"))
        .add_columns(_T.expires_at, _T.last_used_at, _T.revoked_at)
        .join(web_tokens, _T.user_id == _U.user_id)
        .where(_T.token_id == token_id)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    if row is None or not hmac.compare_digest(str(row._mapping["token_hash"]), digest(token)):
        return TokenCheck(problem="the API token is not valid: no such token")
    m = row._mapping
    user, now = user_from_row(row), clock()
    if m["revoked_at"] is not None:
        return TokenCheck(
            token_id=token_id,
            problem=f"the API token {token_id} was revoked on {_when(m['revoked_at'])}",
            code="token_revoked",
        )
    if m["expires_at"] <= now:
        return TokenCheck(
            token_id=token_id,
            problem=f"the API token {token_id} expired on {_when(m['expires_at'])}",
            code="token_expired",
        )
    if not user.active or m["token_generation"] != user.generation:
        why = "is deactivated" if not user.active else "was changed (role, password or activation)"
        return TokenCheck(
            token_id=token_id,
            problem=f"the API token {token_id} ended: its user {user.name!r} {why}",
            code="token_ended",
        )
    last = m["last_used_at"]
    if last is None or now - last >= TOUCH_EVERY:
        _touch(store, token_id, now)
    return TokenCheck(user, token_id)


def _touch(store: Store, token_id: str, now: float) -> bool:
    """Record a use, unless another request (of any server) did within the last minute."""
    stale = or_(_T.last_used_at.is_(None), _T.last_used_at <= now - TOUCH_EVERY)
    with store.transaction() as conn:
        result = conn.execute(
            update(web_tokens).where(_T.token_id == token_id, stale).values(last_used_at=now)
        )
    return bool(result.rowcount)


def _token_id(token: str) -> str | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not secret or not 1 <= len(token_id) <= 16:
        return None
    return token_id


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _info(row: Row[tuple[object, ...]]) -> TokenInfo:
    m = row._mapping
    return TokenInfo(
        str(m["token_id"]),
        str(m["label"]),
        float(m["created_at"]),
        float(m["expires_at"]),
        None if m["last_used_at"] is None else float(m["last_used_at"]),
        None if m["revoked_at"] is None else float(m["revoked_at"]),
    )


def list_tokens(store: Store, user: User) -> list[TokenInfo]:
    """``user``'s tokens, oldest first: active, expired and revoked ones (until they are
    deleted), but not those a change of the user ended."""
    query = (
        select(_T.token_id, _T.label, _T.created_at, _T.expires_at, _T.last_used_at)
        .add_columns(_T.revoked_at)
        .where(_T.user_id == user.user_id, _T.generation == user.generation)
        .order_by(_T.created_at, _T.token_id)
    )
    with store.read() as conn:
        return [_info(row) for row in conn.execute(query)]


def token_owner(store: Store, token_id: str) -> str | None:
    """The name of the user a token belongs to, or None."""
    query = select(_U.name).join(web_tokens, _T.user_id == _U.user_id)
    with store.read() as conn:
        name = conn.execute(query.where(_T.token_id == token_id)).scalar()
    return None if name is None else str(name)


def revoke_token(store: Store, token_id: str, user: User | None = None) -> bool:
    """Revoke a token that is not revoked yet: one of ``user``'s, or anyone's when ``user`` is
    None (an admin). False if there is no such token (or it was revoked already)."""
    where = [_T.token_id == token_id, _T.revoked_at.is_(None)]
    if user is not None:
        where.append(_T.user_id == user.user_id)
    with store.transaction() as conn:
        result = conn.execute(update(web_tokens).where(*where).values(revoked_at=clock()))
    return bool(result.rowcount)
