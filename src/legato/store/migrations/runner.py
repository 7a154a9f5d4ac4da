"""Apply the Alembic migrations to a store (only for stores created by an older Legato)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from legato.store.engine import Store

HERE = Path(__file__).parent


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Upgrade ``store`` to ``revision`` inside one transaction (all or nothing)."""
    cfg = alembic_config()
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
