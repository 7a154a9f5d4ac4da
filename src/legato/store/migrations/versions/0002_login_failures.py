"""Failed logins in the store, so that every web server on it throttles the same way.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_web_login_failures_client", "web_login_failures", ["client", "ts"], unique=False
    )
    op.create_index(
        "ix_web_login_failures_name", "web_login_failures", ["name", "ts"], unique=False
    )
    op.create_index("ix_web_login_failures_ts", "web_login_failures", ["ts"], unique=False)


def downgrade() -> None:
    op.drop_table("web_login_failures")  # and its indexes
