import pytest

import legato as lg
from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.plan import plan_rerun, plan_run
from legato.graph.waves import widest_wave


def _graph():
    @lg.task
    def fetch():
        return [1, 2]

    @lg.asset
    def stored(fetch):
        return fetch

    @lg.task(map_over="stored")
    def each(stored):
        return stored

    @lg.task
    def total(each):
        return sum(each)

    return build_graph(Project.of([fetch, stored, each, total]))


def test_plan_adds_upstream_tasks_but_loads_upstream_assets():
    graph = _graph()
    plan = plan_run(graph, {"stored"})
    assert [s.key.node for s in plan.steps] == ["fetch", "stored"]  # a task result is not stored
    plan = plan_run(graph, {"stored", "total"})
    assert [s.key.node for s in plan.steps] == ["fetch", "stored", "each", "total"]


def test_a_fan_out_over_a_stored_list_it_does_not_make_is_refused():
    # 'each' would be added as total's upstream task, but the engine counts a fan-out's items
    # from the step that made the list in the same run, and 'stored' would only be loaded
    with pytest.raises(lg.SelectionError, match="maps over stored, which this run does not make"):
        plan_run(_graph(), {"total"})


def test_fan_out_steps_are_templates_waiting_for_their_input():
    plan = plan_run(_graph(), {"fetch", "stored", "each", "total"})
    each = next(s for s in plan.steps if s.key.node == "each")
    assert each.template and each.waits_for == (StepKey("stored"),)


def test_rerun_reuses_succeeded_steps_upstream_of_the_failure():
    graph = _graph()
    plan = plan_run(graph, set(graph.nodes))
    succeeded = {StepKey("fetch"): "r1", StepKey("stored"): "r1", StepKey("each", "", 0): "r1"}
    rerun = plan_rerun(plan, succeeded)
    assert rerun.reused == {
        StepKey("fetch"): "r1",
        StepKey("stored"): "r1",
        StepKey("each", "", 0): "r1",
    }


def test_partitioned_step_needs_a_partition():
    from legato.definitions.partitions import StaticPartitions

    @lg.asset(partitions=StaticPartitions(["eu", "us"]))
    def regional():
        return 1

    graph = build_graph(Project.of([regional]))
    with pytest.raises(lg.PartitionError, match=r"say which partition.*e.g. 'us'"):
        plan_run(graph, {"regional"})
    assert plan_run(graph, {"regional"}, partitions=["us"]).steps[0].key == StepKey(
        "regional", "us"
    )
    with pytest.raises(lg.PartitionError, match=r"asset 'regional'.*'apac' is not a partition key"):
        plan_run(graph, {"regional"}, partitions=["apac"])


def test_the_widest_wave_counts_the_steps_that_could_run_at_once():
    @lg.task
    def root():
        return 1

    @lg.task
    def left(root):
        return root

    @lg.task
    def right(root):
        return root

    @lg.task
    def third(root):
        return root

    @lg.task
    def join(left, right, third):
        return left + right + third

    graph = build_graph(Project.of([root, left, right, third, join]))
    assert widest_wave(plan_run(graph, {"root"})) == 1
    assert widest_wave(plan_run(graph, {"root", "left", "join", "right", "third"})) == 3
    chain = plan_run(graph, {"root", "left"})
    assert widest_wave(chain) == 1
    fan_out = plan_run(_graph(), {"fetch", "stored", "each", "total"})
    assert widest_wave(fan_out) == 0  # its width is known only at run time
