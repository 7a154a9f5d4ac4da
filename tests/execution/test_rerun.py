import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus, StepStatus
from legato.execution.api import launch_run, make_executor, rerun_plan
from legato.execution.executors.inprocess import InProcessExecutor
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
    second = _rerun(store, project, graph, storage, first.run_id)
    assert second.status is RunStatus.SUCCEEDED
    assert calls.read_text().split() == ["double2", "total"]  # nothing that succeeded ran again
    assert second.output("total") == 12
    assert second.steps["source"].status is StepStatus.REUSED
    assert second.steps["double#0"].reused_from == first.run_id


def _fails_once(tmp_path):
    fixed = tmp_path / "fixed"

    @lg.task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @lg.task
    def total(numbers: list[int]) -> int:
        if not fixed.exists():
            raise ValueError("not yet")
        return sum(numbers)

    project = Project.of([numbers, total])
    return project, build_graph(project), fixed


def _rerun(store, project, graph, storage, run_id):
    parent, plan = rerun_plan(store, graph, run_id)
    return launch_run(
        project,
        graph,
        parent.selection,
        store=store,
        storage_root=storage,
        executor=make_executor("inprocess"),
        plan=plan,
        parent_run_id=parent.run_id,
    )


def test_a_run_keeps_its_task_results_in_its_log_and_a_rerun_reads_them_there(tmp_path):
    project, graph, fixed = _fails_once(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    storage = tmp_path / "storage"
    first = launch_run(
        project, graph, "*", store=store, storage_root=storage, executor=make_executor("inprocess")
    )
    assert first.status is RunStatus.FAILED
    assert [p.name for p in (storage / "runs" / first.run_id).iterdir()] == ["results.log"]
    fixed.touch()
    second = _rerun(store, project, graph, storage, first.run_id)
    assert second.status is RunStatus.SUCCEEDED and second.output("total") == 6
    assert second.steps["numbers"].reused_from == first.run_id
    store.dispose()


def test_a_rerun_reuses_task_results_an_earlier_version_stored_one_file_each(tmp_path, monkeypatch):
    project, graph, fixed = _fails_once(tmp_path)
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    storage = tmp_path / "storage"
    with monkeypatch.context() as old_version:  # a result per file, as before the run's log
        old_version.setattr(InProcessExecutor, "inline_results", 0)
        first = launch_run(
            project,
            graph,
            "*",
            store=store,
            storage_root=storage,
            executor=make_executor("inprocess"),
        )
    assert [p.name for p in (storage / "runs" / first.run_id).iterdir()] == ["numbers.pkl"]
    fixed.touch()
    second = _rerun(store, project, graph, storage, first.run_id)
    assert second.status is RunStatus.SUCCEEDED and second.output("total") == 6
    assert second.steps["numbers"].reused_from == first.run_id
    store.dispose()
