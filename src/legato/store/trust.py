"""Whether materializations can be trusted: one is not while the latest result of one of its
blocking checks on it failed (what the API shows as ``trust``). OnUpdate does not fire on an
untrusted materialization, and a run does not read one as an input."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, true

from legato.definitions.checks import CHECK_SEPARATOR
from legato.store.engine import Store
from legato.store.schema import asset_latest
from legato.store.schema_checks import check_results

CHUNK = 500  # keys or runs per query: well under every database's limit of bound parameters

Materialization = tuple[str, str, str]  # asset key, partition, run


@dataclass(frozen=True)
class Verdict:
    """The latest outcome of each blocking check on the materialization of ``asset_key`` /
    ``partition`` by ``run_id`` (empty while no blocking check has a result on it)."""

    asset_key: str
    partition: str
    run_id: str
    outcomes: Mapping[str, str]  # check key → pass | warn | fail

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, outcome in self.outcomes.items() if outcome == "fail"))

    @property
    def trusted(self) -> bool:
        return not self.failed_checks

    @property
    def where(self) -> str:
        """``orders [2026-01-01]`` (or ``orders`` for an unpartitioned asset)."""
        return partition_label(self.asset_key, self.partition)

    def describe(self) -> str:
        """``orders [2026-01-01] from run 01ab… failed blocking check not_null_id``."""
        names = [k.split(CHECK_SEPARATOR, 1)[-1] for k in self.failed_checks]
        checks = "check" if len(names) == 1 else "checks"
        return f"{self.where} from run {self.run_id} failed blocking {checks} {', '.join(names)}"


def partition_label(asset: str, partition: str) -> str:
    """``orders [2026-01-01]`` (or ``orders`` for an unpartitioned asset), as ticks name an asset's
    partition."""
    return f"{asset} [{partition}]" if partition else asset


def verdicts(store: Store, materializations: Collection[Materialization]) -> dict[Any, Verdict]:
    """The verdict on each of ``materializations`` (asset key, partition, run): one query per
    ``CHUNK`` runs."""
    wanted = set(materializations)
    runs = sorted({run for _, _, run in wanted})
    outcomes: dict[Materialization, dict[str, str]] = {m: {} for m in wanted}
    c = check_results.c
    with store.read() as conn:
        for start in range(0, len(runs), CHUNK):
            query = (
                select(c.asset_key, c.partition, c.target_run, c.check_key, c.outcome)
                .where(c.target_run.in_(runs[start : start + CHUNK]), c.blocking == true())
                .order_by(c.id)
            )
            for row in conn.execute(query):
                found = outcomes.get((row.asset_key, row.partition, row.target_run))
                if found is not None:
                    found[row.check_key] = row.outcome  # in order: the latest result wins
    return {m: Verdict(*m, found) for m, found in outcomes.items()}


def latest_verdicts(store: Store, keys: Collection[tuple[str, str]]) -> dict[Any, Verdict]:
    """The verdict on the latest materialization of each asset partition ``(asset key,
    partition)`` that has one; keys never materialized are left out. One query per ``CHUNK``
    keys, however many assets they span."""
    a, c = asset_latest.c, check_results.c
    checked = asset_latest.outerjoin(
        check_results,
        and_(
            c.asset_key == a.asset_key,
            c.partition == a.partition,
            c.target_run == a.materialized_run,
            c.blocking == true(),
        ),
    )
    pairs = sorted(set(keys))
    found: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    with store.read() as conn:
        for start in range(0, len(pairs), CHUNK):
            by_asset: dict[str, list[str]] = {}
            for asset, partition in pairs[start : start + CHUNK]:
                by_asset.setdefault(asset, []).append(partition)
            query = (
                select(a.asset_key, a.partition, a.materialized_run, c.check_key, c.outcome)
                .select_from(checked)
                .where(
                    a.materialized_at.is_not(None),
                    or_(*(and_(a.asset_key == k, a.partition.in_(p)) for k, p in by_asset.items())),
                )
                .order_by(c.id)
            )
            for row in conn.execute(query):
                _, outcomes = found.setdefault(
                    (row.asset_key, row.partition), (row.materialized_run or "", {})
                )
                if row.check_key is not None:
                    outcomes[row.check_key] = row.outcome  # in order: the latest result wins
    return {key: Verdict(*key, run, outcomes) for key, (run, outcomes) in found.items()}
