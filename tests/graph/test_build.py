import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph, find_errors


def test_dependencies_are_inferred_from_parameter_names_and_last_segments():
    @lg.asset(key="sales.raw_orders")
    def raw_orders():
        return []

    @lg.asset
    def clean(raw_orders, context, limit: int = 3):
        return raw_orders

    graph = build_graph(Project.of([raw_orders, clean]))
    node = graph["clean"]
    assert node.inputs == {"raw_orders": "sales.raw_orders"}
    assert node.context_param == "context"
    assert graph.order == ("sales.raw_orders", "clean")


def test_missing_upstream_names_the_step_its_source_and_a_suggestion():
    @lg.asset
    def clean_orders():
        return 1

    @lg.asset
    def revenue(orders_clean):
        return orders_clean

    with pytest.raises(lg.MissingUpstreamError) as info:
        build_graph(Project.of([clean_orders, revenue]))
    message = str(info.value)
    assert "asset 'revenue'" in message and "test_build.py:" in message
    assert "'orders_clean'" in message and "did you mean 'clean_orders'?" in message


def test_cycle_is_reported_with_its_full_path():
    @lg.asset(deps=["c"])
    def a():
        return 1

    @lg.asset
    def b(a):
        return a

    @lg.asset
    def c(b):
        return b

    with pytest.raises(lg.CycleError) as info:
        build_graph(Project.of([a, b, c]))
    assert "a → b → c → a" in str(info.value)


def test_all_errors_are_found_not_just_the_first():
    @lg.asset
    def x(missing_one):
        return 1

    @lg.asset
    def y(missing_two):
        return 1

    errors = find_errors(Project.of([x, y]))
    assert {e.obj for e in errors} == {"x", "y"}


def test_ambiguous_parameter_asks_for_ins():
    @lg.asset(key="eu.orders")
    def eu():
        return 1

    @lg.asset(key="us.orders")
    def us():
        return 1

    @lg.asset
    def total(orders):
        return orders

    with pytest.raises(lg.DefinitionError, match=r"could mean any of.*ins="):
        build_graph(Project.of([eu, us, total]))


def test_duplicate_keys_name_both_places():
    def make():
        @lg.asset(key="dup")
        def f():
            return 1

        return f

    with pytest.raises(lg.DuplicateKeyError, match=r"defined twice: at .*test_build.py:\d+ and"):
        Project.of([make(), make()])
