"""Users and login sessions, as stored in the ``web_*`` tables (API tokens: :mod:`.tokens`).

Changing a user's role, password or active flag bumps its ``generation``; a session or token
issued under another generation no longer authenticates, so every change takes effect on the
next request. Logging out deletes the session row.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import Row, delete, func, insert, select, true, update

from legato.errors import ConfigError, NotFoundError
from legato.store.engine import Store
from legato.store.schema_web import web_sessions, web_users
from legato.web.passwords import (
    digest,
    dummy_hash,
    hash_password,
    new_secret,
    password_problem,
    verify_password,
)
from legato.web.policy import Role

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    active: bool
    generation: int
    created_at: float


def user_from_row(row: Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(
        int(m["user_id"]),
        str(m["name"]),
        Role(m["role"]),
        bool(m["active"]),
        int(m["generation"]),
        float(m["created_at"]),
    )


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"user name {name[:80]!r} is not allowed",
            obj=name[:80],
            hint="use 1-64 letters, digits, '_', '.', '@' or '-'",
        )
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ConfigError(
            f"unknown role {role[:40]!r}",
            obj=role[:40],
            hint=f"use one of {', '.join(r.value for r in Role)}",
        ) from None


def check_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ConfigError(problem, hint="choose a longer password, or let Legato generate one")
    return password


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create an active user; raises ConfigError if the name is taken or invalid."""
    check_name(name)
    the_role = check_role(role)
    check_password(password)
    now = time.time()
    with store.transaction() as conn:
        taken = conn.execute(select(web_users.c.user_id).where(web_users.c.name == name)).first()
        if taken is not None:
            raise ConfigError(
                f"user {name!r} already exists",
                obj=name,
                hint="choose another name, or change its role with 'legato users set-role'",
            )
        conn.execute(
            insert(web_users).values(
                name=name,
                role=the_role.value,
                password_hash=hash_password(password),
                active=True,
                generation=1,
                created_at=now,
                updated_at=now,
            )
        )
    return get_user(store, name)


def get_user(store: Store, name: str) -> User:
    with store.read() as conn:
        row = conn.execute(select(web_users).where(web_users.c.name == name)).first()
    if row is None:
        raise NotFoundError(
            f"no user {name[:80]!r}", obj=name[:80], hint="list users with 'legato users list'"
        )
    return user_from_row(row)


def list_users(store: Store) -> list[User]:
    with store.read() as conn:
        return [
            user_from_row(r) for r in conn.execute(select(web_users).order_by(web_users.c.name))
        ]


def count_active_users(store: Store) -> int:
    with store.read() as conn:
        query = select(func.count()).select_from(web_users).where(web_users.c.active == true())
        return int(conn.execute(query).scalar_one())


def update_user(
    store: Store,
    name: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user and end all its sessions and tokens (by bumping its generation)."""
    values: dict[str, object] = {"updated_at": time.time()}
    if role is not None:
        values["role"] = check_role(role).value
    if active is not None:
        values["active"] = bool(active)
    if password is not None:
        values["password_hash"] = hash_password(check_password(password))
    user = get_user(store, name)
    with store.transaction() as conn:
        conn.execute(
            update(web_users)
            .where(web_users.c.user_id == user.user_id)
            .values(generation=web_users.c.generation + 1, **values)
        )
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user.user_id))
    return get_user(store, name)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    with store.read() as conn:
        row = conn.execute(select(web_users).where(web_users.c.name == name)).first()
    if row is None:
        verify_password(password, dummy_hash())
        return None
    ok = verify_password(password, str(row._mapping["password_hash"]))
    user = user_from_row(row)
    return user if ok and user.active else None


def create_session(store: Store, user: User, ttl: float) -> str:
    """A new session id for ``user`` (returned once; only its digest is stored)."""
    session_id = new_secret()
    now = time.time()
    with store.transaction() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
        conn.execute(
            insert(web_sessions).values(
                session_hash=digest(session_id),
                user_id=user.user_id,
                generation=user.generation,
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return session_id


def session_user(store: Store, session_id: str) -> User | None:
    """The user of a live session: not expired, user active, same generation."""
    s, u = web_sessions.c, web_users.c
    query = (
        select(web_users)
        .join(web_sessions, s.user_id == u.user_id)
        .where(
            s.session_hash == digest(session_id),
            s.expires_at > time.time(),
            s.generation == u.generation,
            u.active == true(),
        )
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else user_from_row(row)


def end_session(store: Store, session_id: str) -> None:
    with store.transaction() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == digest(session_id)))
