"""A backfill records the run config each of its runs gets.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.store._json import Json

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backfills") as batch:
        batch.add_column(sa.Column("config", Json(), nullable=True))  # JSONB on PostgreSQL


def downgrade() -> None:
    with op.batch_alter_table("backfills") as batch:
        batch.drop_column("config")
