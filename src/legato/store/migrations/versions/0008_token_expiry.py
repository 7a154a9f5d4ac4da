"""API tokens expire, record when they were last used, and are revoked by marking them.

Tokens made before this revision had no expiry: they expire 90 days after the upgrade (the
default lifetime of a new token), which leaves time to replace them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIFETIME_OF_OLD_TOKENS = 90 * 86400.0


def upgrade() -> None:
    with op.batch_alter_table("web_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.Float(), nullable=True))
    op.execute(
        sa.text("UPDATE web_tokens SET expires_at = :expires").bindparams(
            expires=time.time() + LIFETIME_OF_OLD_TOKENS
        )
    )
    with op.batch_alter_table("web_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.Float(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("web_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
