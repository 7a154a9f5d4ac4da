"""Pretend this Legato is one release newer: its head is a revision after this Legato's head
(``NEXT``) that adds a column, so a store made by the real code (at ``CURRENT``) is one revision
behind."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from legato.store.schema import HEAD_REVISION

CURRENT = HEAD_REVISION
NEXT = f"{int(CURRENT) + 1:04d}"

SCRIPT = f'''
    """A column added after {CURRENT}, to upgrade to.

    Revision ID: {NEXT}
    Revises: {CURRENT}
    """

    import sqlalchemy as sa
    from alembic import op

    revision = "{NEXT}"
    down_revision = "{CURRENT}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        op.add_column("runs", sa.Column("note", sa.Text(), nullable=True))


    def downgrade() -> None:
        with op.batch_alter_table("runs") as batch:
            batch.drop_column("note")
'''


def pretend_a_newer_legato(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy the migrations beside revision ``NEXT`` and make it the head everywhere it is read."""
    from legato.cli import db
    from legato.store import engine
    from legato.store.migrations import runner

    scripts = tmp_path / "migrations"
    shutil.copytree(runner.HERE, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / f"{NEXT}_note.py").write_text(textwrap.dedent(SCRIPT))
    monkeypatch.setattr(runner, "HERE", scripts)
    for module in (engine, runner, db):
        monkeypatch.setattr(module, "HEAD_REVISION", NEXT)
