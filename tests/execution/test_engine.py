"""The engine's behaviour, the same on every executor."""

import itertools
import os
import time
from typing import Annotated

import pytest

import legato as lg
from legato.events.status import RunStatus, StepStatus

EXECUTORS = ["inprocess", "threads", "process"]


def _attempts_file(tmp_path, name):
    return tmp_path / f"{name}.attempts"


def _bump(path) -> int:
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    return count


@pytest.mark.parametrize("executor", EXECUTORS)
def test_values_flow_along_inferred_dependencies(executor, tmp_path):
    @lg.asset(group="sales")
    def raw_orders() -> list[dict]:
        return [{"id": i, "amount": i - 1} for i in range(4)]

    @lg.asset(group="sales")
    def clean_orders(raw_orders: list[dict]) -> list[dict]:
        return [o for o in raw_orders if o["amount"] > 0]

    @lg.task
    def report(clean_orders):
        return len(clean_orders)

    result = lg.materialize(
        [raw_orders, clean_orders, report], executor=executor, storage=tmp_path / "storage"
    )
    assert result.success
    assert result.output("report") == 2
    assert [e["type"] for e in result.events].count("materialized") == 2


@pytest.mark.parametrize("executor", EXECUTORS)
def test_retries_until_success_and_records_each_attempt(executor, tmp_path):
    marker = _attempts_file(tmp_path, "flaky")

    @lg.task(retries=lg.Retry(3, delay=0.01, backoff=1.0, jitter=0))
    def flaky():
        if _bump(marker) < 3:
            raise ConnectionError("not yet")
        return "ok"

    result = lg.materialize([flaky], executor=executor, storage=tmp_path / "s")
    assert result.output("flaky") == "ok"
    assert result.steps["flaky"].attempt == 3
    types = [e["type"] for e in result.events if e["step"] == "flaky"]
    assert types == [
        "step_started",
        "step_retry",
        "step_started",
        "step_retry",
        "step_started",
        "step_succeeded",
    ]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_errors_outside_retry_on_fail_at_once_and_skip_downstream(executor, tmp_path):
    @lg.task(retries=lg.Retry(5, delay=0, retry_on=[ConnectionError]))
    def broken():
        raise ValueError("bad data in row 7")

    @lg.task
    def after(broken):
        return broken

    @lg.task
    def independent():
        return 1

    result = lg.materialize(
        [broken, after, independent],
        executor=executor,
        storage=tmp_path / "s",
        raise_on_error=False,
    )
    assert result.status is RunStatus.FAILED
    assert result.steps["broken"].attempt == 1
    assert result.steps["broken"].error["message"] == "bad data in row 7"
    assert "ValueError" in result.steps["broken"].error["traceback"]
    assert result.steps["after"].status is StepStatus.SKIPPED
    assert result.steps["independent"].status is StepStatus.SUCCEEDED


def test_materialize_raises_a_step_error_naming_the_failure():
    @lg.task
    def broken():
        raise RuntimeError("no connection to warehouse")

    with pytest.raises(lg.StepError, match="broken: no connection to warehouse"):
        lg.materialize([broken])


@pytest.mark.parametrize("executor", ["threads", "process", "inprocess"])
def test_timeouts_fail_the_attempt(executor, tmp_path):
    @lg.task(timeout=0.3)
    def slow():
        time.sleep(30)

    started = time.monotonic()
    result = lg.materialize([slow], executor=executor, storage=tmp_path / "s", raise_on_error=False)
    assert result.steps["slow"].status is StepStatus.FAILED
    assert "timeout" in result.steps["slow"].error["message"]
    assert time.monotonic() - started < 20  # the 30 s sleep was cut short


@pytest.mark.parametrize("executor", EXECUTORS)
def test_fan_out_runs_one_step_per_item_and_collects_in_order(executor, tmp_path):
    @lg.task
    def files() -> list[str]:
        return [f"f{i}" for i in range(25)]

    @lg.task(map_over="files", retries=lg.Retry(1, delay=0))
    def parse(files: str) -> int:
        return int(files[1:]) * 2

    @lg.task
    def total(parse: list[int]) -> int:
        return sum(parse)

    result = lg.materialize([files, parse, total], executor=executor, storage=tmp_path / "s")
    assert result.output("total") == sum(i * 2 for i in range(25))
    assert result.output("parse#7") == 14
    items = [k for k in result.steps if k.startswith("parse#")]
    assert len(items) == 25
    assert all(result.steps[k].status is StepStatus.SUCCEEDED for k in items)


def test_fan_out_of_ten_thousand_items():
    @lg.task
    def ids() -> list[int]:
        return list(range(10_000))

    @lg.task(map_over="ids")
    def square(ids: int) -> int:
        return ids * ids

    @lg.task
    def total(square: list[int]) -> int:
        return sum(square)

    result = lg.materialize([ids, square, total])
    assert result.output("total") == sum(i * i for i in range(10_000))
    assert sum(1 for k in result.steps if k.startswith("square#")) == 10_000


def test_empty_fan_out_gives_an_empty_list():
    @lg.task
    def nothing() -> list[int]:
        return []

    @lg.task(map_over="nothing")
    def each(nothing: int) -> int:
        return nothing

    @lg.task
    def count(each: list[int]) -> int:
        return len(each)

    assert lg.materialize([nothing, each, count]).output("count") == 0


def test_one_failed_item_fails_the_fan_out_but_the_others_finish():
    @lg.task
    def items() -> list[int]:
        return [1, 2, 0, 4]

    @lg.task(map_over="items")
    def invert(items: int) -> float:
        return 1 / items

    @lg.task
    def total(invert):
        return sum(invert)

    result = lg.materialize([items, invert, total], raise_on_error=False)
    assert result.steps["invert#2"].status is StepStatus.FAILED
    assert result.steps["invert#3"].status is StepStatus.SUCCEEDED
    assert result.steps["invert"].status is StepStatus.FAILED
    assert result.steps["total"].status is StepStatus.SKIPPED


@pytest.mark.parametrize("executor", EXECUTORS)
def test_prints_and_logs_are_captured_per_step(executor, tmp_path):
    @lg.task
    def chatty(context):
        print("to stdout")
        context.log.info("through the step logger")
        return 1

    @lg.task
    def quiet(chatty):
        return chatty

    result = lg.materialize([chatty, quiet], executor=executor, storage=tmp_path / "s")
    from legato.store.logs import read_logs

    lines = read_logs(result.store, result.run_id)
    assert {(line.step_key, line.message) for line in lines} >= {
        ("chatty", "to stdout"),
        ("chatty", "legato.step.chatty: through the step logger"),
    }
    assert not [line for line in lines if line.step_key == "quiet"]


def test_context_resources_and_run_config_reach_the_step():
    class Greeter(lg.Resource):
        greeting: str = "hello"
        opened: bool = False

        def setup(self) -> None:
            self.opened = True

    @lg.task
    def greet(greeter: Greeter, context) -> str:
        assert greeter.opened
        return f"{greeter.greeting} {context.run_config['name']} attempt {context.attempt}"

    result = lg.materialize(
        [greet], resources={"greeter": Greeter(greeting="hi")}, run_config={"name": "ada"}
    )
    assert result.output("greet") == "hi ada attempt 1"


def test_a_missing_resource_is_named_with_the_fix():
    class Warehouse(lg.Resource):
        url: str

    @lg.task
    def load(warehouse: Warehouse):
        return warehouse.url

    result = lg.materialize([load], raise_on_error=False)
    message = result.steps["load"].error["message"]
    assert (
        "needs resource 'warehouse'" in message and "[tool.legato.resources.warehouse]" in message
    )


def test_a_wrong_input_type_is_a_clear_step_error():
    @lg.task
    def numbers():  # unannotated, so not refused at load (tests/graph/test_contracts.py)
        return "not a list"

    @lg.task
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    result = lg.materialize([numbers, total], raise_on_error=False)
    message = result.steps["total"].error["message"]
    assert "parameter 'numbers' is annotated list" in message and "produced str" in message


def test_an_annotated_input_is_checked_against_its_type():
    @lg.task
    def numbers():  # unannotated, so not refused at load
        return [1, 2]

    @lg.task
    def total(numbers: Annotated[list[int], "metadata"]) -> int:
        return sum(numbers)

    @lg.task
    def name(numbers: Annotated[str, "metadata"]) -> str:
        return numbers

    assert lg.materialize([numbers, total]).output("total") == 3
    result = lg.materialize([numbers, name], raise_on_error=False)
    assert "parameter 'numbers' is annotated str" in result.steps["name"].error["message"]


def test_pipeline_run_uses_its_selection_tags_and_default_retries(tmp_path):
    marker = tmp_path / "count"

    @lg.asset(group="nightly_sales")
    def sales():
        if _bump(marker) < 2:
            raise ConnectionError("flaky")
        return 5

    @lg.task
    def unrelated():
        raise AssertionError("not selected")

    nightly = lg.Pipeline(
        "nightly",
        select="group:nightly_sales+",
        tags={"team": "finance"},
        retries=lg.Retry(2, delay=0),
    )
    result = nightly.run(steps=[sales, unrelated])
    assert result.success and set(result.steps) == {"sales"}
    from legato.store.runs import get_run

    run = get_run(result.store, result.run_id)
    assert run.pipeline == "nightly" and run.tags == {"team": "finance"}


def test_process_pool_reuses_long_lived_workers(tmp_path):
    @lg.task
    def pids() -> list[int]:
        return list(range(40))

    @lg.task(map_over="pids")
    def which(pids: int) -> int:
        return os.getpid()

    result = lg.materialize(
        [pids, which], executor="process", max_concurrency=2, storage=tmp_path / "s"
    )
    workers = set(result.output("which"))
    assert 1 <= len(workers) <= 2 and os.getpid() not in workers


def test_steps_that_run_in_turn_in_process_record_their_own_start_and_end(tmp_path):
    """The engine starts all three at once; the in-process executor runs them one after another.
    Each step's recorded times are its own, not those of the batch that started it."""

    def nap() -> None:
        time.sleep(0.2)

    steps = [lg.task(key=f"nap{i}")(nap) for i in range(3)]
    result = lg.materialize(steps, executor="inprocess", storage=tmp_path / "s")
    records = sorted(result.steps.values(), key=lambda r: r.started_at)
    durations = [r.ended_at - r.started_at for r in records]
    assert all(d < 0.35 for d in durations), durations  # not 0.2 / 0.4 / 0.6 (or 0.6 each)
    for earlier, later in itertools.pairwise(records):
        assert later.started_at > earlier.started_at
        assert later.started_at >= earlier.ended_at - 0.01  # in turn: no overlap


@pytest.mark.parametrize("executor", ["inprocess", "threads"])
def test_executors_in_the_engines_process_use_its_graph(executor, monkeypatch):
    """Building the graph of a large project takes a while: in the engine's process it is
    built once, not again by the executor."""
    from legato.definitions.project import Project
    from legato.execution.api import make_executor
    from legato.execution.executors.base import ExecutorSetup
    from legato.graph import build

    @lg.task
    def one() -> int:
        return 1

    project = Project.of([one])
    graph = build.build_graph(project)
    built: list[object] = []
    monkeypatch.setattr(build, "build_graph", lambda p: built.append(p) or graph)
    monkeypatch.setattr("legato.execution.resources.build_graph", build.build_graph)
    made = make_executor(executor)
    made.start(ExecutorSetup(project, None, graph=graph))
    try:
        assert made._env.graph is graph and built == []
    finally:
        made.shutdown()
