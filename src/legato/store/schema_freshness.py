"""The table of freshness: violations of freshness policies and pipeline SLAs.

"One open violation per subject" is a unique ``open_key`` that holds the subject while the row
is open and NULL once it is resolved (NULLs never collide), so racing daemons cannot open two.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, UniqueConstraint

from legato.store._json import Json
from legato.store.schema import metadata

SUBJECT_LENGTH = 300  # open keys made from user data are bounded to it (hashing the excess)

# A freshness policy or pipeline SLA missed (kind "freshness" or "sla"), until it recovers.
violations = Table(
    "violations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # freshness | sla
    Column("subject", String(1400), nullable=False),  # asset[partition] or the pipeline
    Column("asset_key", String(255)),
    Column("pipeline", String(255)),
    Column("partition", String(1024), nullable=False, default=""),  # the key found late
    Column("run_id", String(40)),  # sla: the run that missed it
    Column("late_since", Float, nullable=False),  # when it became late
    Column("opened_at", Float, nullable=False),  # when the daemon recorded it
    Column("resolved_at", Float),
    Column("detail", Json, nullable=False, default=dict),
    Column("open_key", String(SUBJECT_LENGTH)),  # kind:subject while open, else NULL
    UniqueConstraint("open_key", name="uq_violations_open_key"),
)
Index("ix_violations_asset", violations.c.asset_key, violations.c.id)
Index("ix_violations_pipeline", violations.c.pipeline, violations.c.id)
