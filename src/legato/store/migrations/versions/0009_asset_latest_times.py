"""Stale partitions are counted from an index: ``asset_latest`` by asset, status and when each key
was last materialized (it replaces the index by asset and status, of which it is an extension).

The oldest materialization of an asset, the keys older than a time and the upstream keys newer
than one are index ranges, so ``legato partitions status`` counts stale keys at a million keys
without reading them all.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_asset_latest_status_time",
        "asset_latest",
        ["asset_key", "status", "materialized_at"],
        unique=False,
    )
    op.drop_index("ix_asset_latest_status", table_name="asset_latest")


def downgrade() -> None:
    op.create_index("ix_asset_latest_status", "asset_latest", ["asset_key", "status"], unique=False)
    op.drop_index("ix_asset_latest_status_time", table_name="asset_latest")
