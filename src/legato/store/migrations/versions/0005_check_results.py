"""Check results: each evaluation of a check on the materialization it checked.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_key", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.String(length=1024), nullable=False),
        sa.Column("check_key", sa.String(length=400), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("step_key", sa.String(length=1200), nullable=False),
        sa.Column("target_run", sa.String(length=40), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("blocking", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_check_results_check", "check_results", ["asset_key", "check_key", "id"], unique=False
    )
    op.create_index(
        "ix_check_results_target",
        "check_results",
        ["asset_key", "partition", "target_run"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("check_results")  # and its indexes
