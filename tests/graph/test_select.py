import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.select import select


@pytest.fixture
def graph():
    @lg.asset(group="sales", tags={"team": "finance"})
    def raw():
        return 1

    @lg.asset(group="sales")
    def clean(raw):
        return raw

    @lg.task
    def report(clean):
        return clean

    @lg.asset(key="ops.other")
    def other():
        return 2

    return build_graph(Project.of([raw, clean, report, other]))


@pytest.mark.parametrize(
    "selection, expected",
    [
        ("raw", {"raw"}),
        ("raw+", {"raw", "clean", "report"}),
        ("raw+1", {"raw", "clean"}),
        ("+report", {"raw", "clean", "report"}),
        ("1+report", {"clean", "report"}),
        ("group:sales", {"raw", "clean"}),
        ("group:sales+", {"raw", "clean", "report"}),
        ("tag:team=finance", {"raw"}),
        ("tag:team", {"raw"}),
        ("ops.*", {"ops.other"}),
        ("other", {"ops.other"}),
        ("kind:task", {"report"}),
        ("raw, other", {"raw", "ops.other"}),
        ("*", {"raw", "clean", "report", "ops.other"}),
    ],
)
def test_selection_language(graph, selection, expected):
    assert select(graph, selection) == expected


@pytest.mark.parametrize(
    "selection, match",
    [
        ("rwa", "did you mean 'raw'"),
        ("group:sale", "did you mean 'sales'"),
        ("tag:nope", "no asset or task has tag"),
        ("zzz.*", "matches no asset"),
        ("", "empty selection"),
        ("kind:thing", "kind:asset, kind:task or kind:check"),
    ],
)
def test_bad_selections_explain_themselves(graph, selection, match):
    with pytest.raises(lg.SelectionError, match=match):
        select(graph, selection)


def test_selection_strings_are_never_evaluated(graph):
    with pytest.raises(lg.SelectionError):
        select(graph, "'; DROP TABLE runs; --")
