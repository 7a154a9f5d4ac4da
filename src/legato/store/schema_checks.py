"""Check results: each evaluation of a check, on the materialization (asset, partition, run) it
checked. The latest result of each blocking check on the latest materialization says whether
that materialization can be trusted."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from legato.store._json import Json
from legato.store.schema import metadata

CHECK_KEY_LENGTH = 400  # "<asset key>:check:<name>"

check_results = Table(
    "check_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asset_key", String(255), nullable=False),
    Column("partition", String(1024), nullable=False, default=""),
    Column("check_key", String(CHECK_KEY_LENGTH), nullable=False),
    Column("run_id", String(40), nullable=False),  # the run that evaluated it
    Column("step_key", String(1200), nullable=False),
    Column("target_run", String(40)),  # the run whose materialization it checked
    Column("ts", Float, nullable=False),
    Column("outcome", String(8), nullable=False),  # pass | warn | fail
    Column("severity", String(8), nullable=False),  # error | warn
    Column("blocking", Boolean, nullable=False, default=False),
    Column("metadata", Json, nullable=False, default=dict),
    Column("description", Text),
)
Index(
    "ix_check_results_check",
    check_results.c.asset_key,
    check_results.c.check_key,
    check_results.c.id,
)
Index("ix_check_results_target_run", check_results.c.target_run)  # retention deletes by it
Index(
    "ix_check_results_target",
    check_results.c.asset_key,
    check_results.c.partition,
    check_results.c.target_run,
)
