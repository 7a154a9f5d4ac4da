"""Freshness: violations of freshness policies and pipeline SLAs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "violations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=1400), nullable=False),
        sa.Column("asset_key", sa.String(length=255), nullable=True),
        sa.Column("pipeline", sa.String(length=255), nullable=True),
        sa.Column("partition", sa.String(length=1024), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("late_since", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("resolved_at", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key", name="uq_violations_open_key"),
    )
    op.create_index("ix_violations_asset", "violations", ["asset_key", "id"], unique=False)
    op.create_index("ix_violations_pipeline", "violations", ["pipeline", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("violations")  # and its indexes
