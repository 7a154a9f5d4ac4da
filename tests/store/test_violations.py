"""Violations in the store: one open per subject, resolved when it recovers or its policy is
gone, and left open while the definitions are not known in full."""

from __future__ import annotations

from legato.store.engine import Store
from legato.store.violations import Miss, list_violations, record_misses


def test_a_late_subject_opens_one_violation_until_it_recovers(store: Store):
    late = [Miss("revenue", 5.0, asset_key="revenue")]
    opened, _ = record_misses(store, "freshness", late, assessed={"revenue"}, defined=None, now=6.0)
    again, _ = record_misses(store, "freshness", late, assessed={"revenue"}, defined=None, now=7.0)
    assert len(opened) == 1 and again == []
    _, kept = record_misses(store, "freshness", [], assessed=set(), defined=None, now=8.0)
    assert kept == []  # not assessed, definitions unknown: left open
    _, resolved = record_misses(store, "freshness", [], assessed=set(), defined=set(), now=9.0)
    assert resolved == opened  # its policy is gone from the definitions
    [violation] = list_violations(store)
    assert violation.resolved_at == 9.0
