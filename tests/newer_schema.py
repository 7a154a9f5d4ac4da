"""Pretend this Legato is one release newer: its head is a revision 0002 that adds a column, so
a store made by the real code is one revision behind."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

NEXT = '''
    """A column added after 0001, to upgrade to.

    Revision ID: 0002
    Revises: 0001
    """

    import sqlalchemy as sa
    from alembic import op

    revision = "0002"
    down_revision = "0001"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        op.add_column("runs", sa.Column("note", sa.Text(), nullable=True))


    def downgrade() -> None:
        with op.batch_alter_table("runs") as batch:
            batch.drop_column("note")
'''


def pretend_a_newer_legato(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy the migrations beside a revision 0002 and make 0002 the head everywhere it is read."""
    from legato.cli import db
    from legato.store import engine
    from legato.store.migrations import runner

    scripts = tmp_path / "migrations"
    shutil.copytree(runner.HERE, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_note.py").write_text(textwrap.dedent(NEXT))
    monkeypatch.setattr(runner, "HERE", scripts)
    for module in (engine, runner, db):
        monkeypatch.setattr(module, "HEAD_REVISION", "0002")
