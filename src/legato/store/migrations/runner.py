"""Apply the Alembic migrations to a store whose schema is older than this Legato's.

``Store.ensure_schema`` decides when (it holds the schema lock); this module knows the revisions
and runs them on the connection it is handed, so the upgrade commits or rolls back as one.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection

from legato.errors import StoreError
from legato.store.schema import HEAD_REVISION

HERE = Path(__file__).parent


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def revisions() -> list[str]:
    """Every revision this Legato knows, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def run_migrations(conn: Connection, revision: str = "head") -> None:
    """Upgrade the store on ``conn`` to ``revision``, inside the caller's transaction."""
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def migrate(conn: Connection, before: str, *, where: str, allowed: bool) -> None:
    """Upgrade the store on ``conn`` from ``before`` to the head revision, if ``allowed``;
    otherwise say how to. A revision this Legato does not know was written by a newer one."""
    if before not in revisions():
        raise StoreError(
            f"the store at {where} is at schema revision {before!r}, which this version of "
            f"Legato (schema {HEAD_REVISION}) does not know: a newer Legato upgraded it",
            hint="upgrade Legato to the version that upgraded the store",
        )
    if not allowed:
        raise StoreError(
            f"the store at {where} is at schema revision {before}; this version of Legato "
            f"needs {HEAD_REVISION}",
            hint="run 'legato db upgrade' once, then start Legato's processes again",
        )
    try:
        run_migrations(conn)
    except CommandError as exc:
        raise StoreError(f"cannot upgrade the store at {where}: {exc}") from exc
