"""Retention policies: what a pipeline accepts, and errors naming the pipeline, its line and the
fix (legato.toml's [retention]: tests/loader/test_config.py)."""

from __future__ import annotations

import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.snapshot import snapshot


def test_a_pipeline_policy_is_in_the_snapshot_and_retention_keeps_everything():
    keep_all = lg.Pipeline("archive", retention=lg.Retention())
    monthly = lg.Pipeline("monthly", retention=lg.Retention(days=30, runs=1000))
    assert keep_all.retention is not None and keep_all.retention.keeps_everything
    project = Project.of([], [keep_all, monthly])
    described = {p.name: p.retention for p in snapshot(project, build_graph(project)).pipelines}
    assert described == {
        "archive": {"days": None, "runs": None},
        "monthly": {"days": 30, "runs": 1000},
    }
    assert lg.Retention.from_description(described["monthly"]) == monthly.retention


@pytest.mark.parametrize(
    "retention, match, fix",
    [
        (30, "retention=30 is not a Retention", "Retention(days=30, runs=1000)"),
        (lg.Retention(days=0), "days=0 is not a number of days > 0", "days=30"),
        (lg.Retention(days="30d"), "days='30d' is not a number of days", "days=30"),
        (lg.Retention(runs=2.5), "runs=2.5 is not a whole number", "runs=1000"),
        (lg.Retention(runs=True), "runs=True is not a whole number", "runs=1000"),
    ],
)
def test_a_bad_pipeline_policy_names_the_pipeline_its_line_and_the_fix(retention, match, fix):
    with pytest.raises(lg.DefinitionError, match=match) as info:
        lg.Pipeline("nightly", retention=retention)
    assert "pipeline 'nightly'" in str(info.value) and "test_retention_policies.py:" in str(
        info.value
    )
    assert fix in (info.value.hint or "")
