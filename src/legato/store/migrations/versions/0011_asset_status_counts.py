"""How many keys of each asset are materialized, failed or in progress, kept in a table of its own
(``asset_status_counts``) by the statements that write ``asset_latest``, and filled here from it.

Counting the keys of an asset by status in ``asset_latest`` visits every row on PostgreSQL until
VACUUM has marked the table's pages all-visible: seconds at a million keys right after a bulk load.
The kept counts are three rows per asset. ``asset_latest.previous_status`` is the status a row had
before its latest write, which the write returns with the new one to keep the counts; rows
written before this revision have none, which no one reads.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("asset_latest", sa.Column("previous_status", sa.String(length=16), nullable=True))
    op.create_table(
        "asset_status_counts",
        sa.Column("asset_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("asset_key", "status"),
    )
    op.execute(
        "INSERT INTO asset_status_counts (asset_key, status, key_count) "
        "SELECT asset_key, status, count(*) FROM asset_latest GROUP BY asset_key, status"
    )


def downgrade() -> None:
    op.drop_table("asset_status_counts")
    with op.batch_alter_table("asset_latest") as batch:
        batch.drop_column("previous_status")
