"""Tables of the web server: users, their sessions and API tokens, the audit log, and failed
logins (the login throttle's state, shared by every server on the store).

Secrets are never stored in clear: passwords as scrypt hashes, session ids and API tokens as
SHA-256 digests (they are 256-bit random values, so a fast hash is enough). A user's
``generation`` is bumped on every role, password or activation change; sessions and tokens carry
the generation they were issued under and stop working as soon as it differs. API tokens also
expire, and may be revoked one by one.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from legato.store._json import Json
from legato.store.schema import metadata

web_users = Table(
    "web_users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),  # viewer | operator | admin
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("generation", Integer, nullable=False, default=1),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("name", name="uq_web_users_name"),
)

# A user's sessions and tokens go with the user's row.
_USER = ForeignKey("web_users.user_id", ondelete="CASCADE", name="fk_web_sessions_user")
_USER_OF_TOKEN = ForeignKey("web_users.user_id", ondelete="CASCADE", name="fk_web_tokens_user")

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, _USER, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("ix_web_sessions_user", web_sessions.c.user_id)

web_tokens = Table(
    "web_tokens",
    metadata,
    Column("token_id", String(16), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("user_id", Integer, _USER_OF_TOKEN, nullable=False),
    Column("label", String(128), nullable=False, default=""),
    Column("generation", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("last_used_at", Float),  # recorded at most once a minute
    Column("revoked_at", Float),  # a revoked token's row stays a while, to say so when used
)
Index("ix_web_tokens_user", web_tokens.c.user_id)

web_audit = Table(
    "web_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("actor", String(80), nullable=False),  # "user:NAME", "token:ID" or "local"
    Column("action", String(40), nullable=False),  # run.launch, run.cancel, user.role, ...
    Column("target", String(255), nullable=False, default=""),
    Column("detail", Json, nullable=False, default=dict),
)
Index("ix_web_audit_ts", web_audit.c.ts)

# One row per failed login, kept for the throttle's window (legato.web.throttle): every server on
# the store counts the same failures, per client address and per user name.
web_login_failures = Table(
    "web_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("client", String(64), nullable=False),  # an IPv4 address or an IPv6 /64 network
    Column("name", String(64), nullable=False),  # the user name tried, existing or not
)
Index("ix_web_login_failures_client", web_login_failures.c.client, web_login_failures.c.ts)
Index("ix_web_login_failures_name", web_login_failures.c.name, web_login_failures.c.ts)
Index("ix_web_login_failures_ts", web_login_failures.c.ts)
