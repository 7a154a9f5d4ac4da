"""The initial schema: every table the schema modules declare.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from legato.store.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# 0001 creates the schema as first released. Every change after the first release is a new
# revision that spells out its changes with op.* calls; this one is never edited again.


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
