import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus, StepStatus
from legato.execution.api import launch_run, make_executor, rerun_plan
from legato.graph.build import build_graph
from legato.store.engine import Store


def test_rerun_from_failure_reexecutes_only_failed_and_downstream_steps(tmp_path):
    calls = tmp_path / "calls"
    fixed = tmp_path / "fixed"

    def note(name):
        with open(calls, "a") as f:
            f.write(name + "\n")

    @lg.asset
    def source() -> list[int]:
        note("source")
        return [1, 2, 3]

    @lg.task(map_over="source")
    def double(source: int) -> int:
        note(f"double{source}")
        if source == 2 and not fixed.exists():
            raise ValueError("bad item")
        return source * 2

    @lg.task
    def total(double: list[int]) -> int:
        note("total")
        return sum(double)

    project = Project.of([source, double, total])
    graph = build_graph(project)
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    storage = tmp_path / "storage"
    first = launch_run(
        project, graph, "*", store=store, storage_root=storage, executor=make_executor("inprocess")
    )
    assert first.status is RunStatus.FAILED
    assert calls.read_text().split() == ["source", "double1", "double2", "double3"]

    fixed.touch()
    calls.unlink()
    parent, plan = rerun_plan(store, graph, first.run_id)
    second = launch_run(
        project,
        graph,
        parent.selection,
        store=store,
        storage_root=storage,
        executor=make_executor("inprocess"),
        plan=plan,
        parent_run_id=parent.run_id,
    )
    assert second.status is RunStatus.SUCCEEDED
    assert calls.read_text().split() == ["double2", "total"]  # nothing that succeeded ran again
    assert second.output("total") == 12
    assert second.steps["source"].status is StepStatus.REUSED
    assert second.steps["double#0"].reused_from == first.run_id
