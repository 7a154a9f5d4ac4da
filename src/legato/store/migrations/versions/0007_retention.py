"""Retention: pinned runs, runs whose rows are being deleted, and the indexes that find the rows
of a run to delete.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_pins",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("pinned_at", sa.Float(), nullable=False),
        sa.Column("pinned_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "pruned_runs",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("pruned_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_materializations_run", "materializations", ["run_id"], unique=False)
    op.create_index("ix_check_results_target_run", "check_results", ["target_run"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_check_results_target_run", table_name="check_results")
    op.drop_index("ix_materializations_run", table_name="materializations")
    op.drop_table("pruned_runs")
    op.drop_table("run_pins")
