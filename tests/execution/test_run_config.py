"""Run config with a schema: a step parameter typed as a msgspec Struct or a Pydantic model is
the step's config, checked when the run is requested; the step receives the model instance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec
import pydantic
import pytest

import legato as lg
from legato.errors import RunConfigError
from legato.store.automation import list_ticks, list_triggers
from legato.store.engine import Store
from legato.store.runs import list_runs
from legato.testing import VirtualDaemon


class CleanConfig(msgspec.Struct):
    min_amount: float = 0.0
    region: Literal["eu", "us"] = "eu"


class ReportConfig(pydantic.BaseModel):
    title: str
    top: int = 3


@lg.asset
def raw_orders() -> list[dict]:
    return [{"amount": 1.0, "region": "eu"}, {"amount": 10.0, "region": "eu"}]


@lg.asset
def clean_orders(raw_orders: list[dict], config: CleanConfig) -> list[dict]:
    assert isinstance(config, CleanConfig)
    return [o for o in raw_orders if o["amount"] >= config.min_amount]


@lg.task
def report(clean_orders: list[dict], options: ReportConfig) -> str:
    assert isinstance(options, ReportConfig)
    return f"{options.title}: {len(clean_orders)} of top {options.top}"


STEPS = [raw_orders, clean_orders, report]


def test_each_step_receives_its_model_built_from_its_part_of_the_run_config(store: Store):
    config = {"clean_orders": {"min_amount": 5}, "report": {"title": "Daily"}, "free": [1]}
    result = lg.materialize(STEPS, store=store, run_config=config)
    assert result.output("clean_orders") == [{"amount": 10.0, "region": "eu"}]
    assert result.output("report") == "Daily: 1 of top 3"  # a field left out keeps its default
    assert list_runs(store)[0].config == config  # recorded as given


@pytest.mark.parametrize(
    ("config", "path", "fix"),
    [
        ({"report": {"title": "T", "topp": 2}}, "report.topp", "did you mean 'top'?"),
        ({"report": {"title": "T", "top": "2"}}, "report.top", "without quotes"),
        ({"report": {}}, "report.title", "add 'title' (a string)"),
        ({}, "report", "add 'report' (an object with 'title') to the run config"),
        (
            {"report": {"title": "T"}, "clean_orders": {"region": "ue"}},
            "clean_orders.region",
            "'eu'",
        ),
        (
            {"report": {"title": "T"}, "clean_orders": {"min_amount": float("nan")}},
            "clean_orders.min_amount",
            "finite",
        ),
        (
            {"report": {"title": "T"}, "clean_orders": {"min_amount": 1e999}},
            "clean_orders.min_amount",
            "finite",
        ),
        ({"report": {"title": "T"}, "rows": [1, float("inf")]}, "rows[1]", "finite"),
    ],
)
def test_a_config_that_does_not_fit_is_refused_before_any_run_is_recorded(
    store: Store, config, path, fix
):
    with pytest.raises(RunConfigError) as caught:
        lg.materialize(STEPS, store=store, run_config=config)
    problem = next(p for p in caught.value.problems if p["path"] == path)
    assert fix in problem["hint"], caught.value.problems
    step = path.split(".")[0].split("[")[0]
    assert problem["step"] == (step if step in ("report", "clean_orders") else "")
    assert path in str(caught.value) and fix in str(caught.value)
    assert list_runs(store) == []


def test_only_the_config_of_steps_the_run_executes_is_required():
    result = lg.materialize(STEPS, selection="raw_orders+1")  # report is not in this run
    assert result.output("clean_orders") == result.output("raw_orders")


def test_a_pipeline_config_is_the_default_the_run_config_refines():
    weekly = lg.Pipeline("weekly", select="*", config={"report": {"title": "Weekly", "top": 5}})
    result = weekly.run(steps=STEPS, run_config={"report": {"top": 1}})
    assert result.output("report") == "Weekly: 2 of top 1"


def test_a_schedule_whose_pipeline_config_does_not_fit_fails_its_tick_visibly():
    nightly = lg.Pipeline(
        "nightly", select="report", config={"report": {"top": 2}}, triggers=[lg.Cron("0 2 * * *")]
    )
    start = datetime(2025, 3, 1, 1, 59, tzinfo=UTC)
    daemon = VirtualDaemon([nightly], steps=STEPS, start=start)
    assert daemon.advance(minutes=2) == []
    [trigger] = list_triggers(daemon.store)
    [tick] = list_ticks(daemon.store, trigger.trigger_id)
    assert tick.status == "failed" and "report.title is required" in (tick.reason or "")


def test_a_schedule_whose_steps_need_config_its_pipeline_lacks_says_so_at_once_and_runs_nothing():
    nightly = lg.Pipeline("nightly", select="report", triggers=[lg.Cron("0 2 * * *")])
    daemon = VirtualDaemon([nightly], steps=STEPS, start=datetime(2025, 3, 1, tzinfo=UTC))
    # past the 02:00 fire (the failed trigger is looked at again every 30 s: each look costs)
    assert daemon.advance(hours=2, minutes=5) == []  # no run, failing or not
    [tick] = list_ticks(daemon.store)  # one tick, not one per evaluation or per fire
    assert tick.status == "failed" and tick.run_id is None
    assert tick.tick_key.startswith("2025-03-01T00:00")  # seen at once, not at the first fire
    reason = " ".join((tick.reason or "").split())
    assert reason.startswith(  # what `legato automation ticks` shows of it comes first
        "a scheduled run gets only its pipeline's config: the run config of step 'report' is "
        "invalid: report is required; give the config model's fields defaults, or set them in "
        "Pipeline('nightly', config={...})"
    )
    assert "report: add 'report' (an object with 'title')" in reason
    assert list_runs(daemon.store) == []


def test_a_sensor_asking_for_a_run_with_a_config_that_does_not_fit_fails_its_tick():
    @lg.sensor(interval=60)
    def exports(context):  # type: ignore[no-untyped-def]
        return [lg.RunRequest(config={"report": {"title": 7}})]

    watched = lg.Pipeline("watched", select="report", triggers=[exports])
    daemon = VirtualDaemon([watched], steps=STEPS, start=datetime(2025, 3, 1, tzinfo=UTC))
    assert daemon.advance(seconds=30) == []
    [trigger] = list_triggers(daemon.store)
    [tick] = list_ticks(daemon.store, trigger.trigger_id)
    assert tick.status == "failed" and "report.title must be a string, not 7" in (tick.reason or "")


def test_config_models_that_cannot_be_checked_are_definition_errors():
    def two(x: CleanConfig, y: Both) -> None: ...

    def opaque(config: Opaque) -> None: ...

    with pytest.raises(lg.DefinitionError, match="two config models"):
        lg.materialize([lg.task(two)])
    with pytest.raises(lg.DefinitionError, match="has no JSON Schema") as caught:
        lg.materialize([lg.task(opaque)])
    assert "field types JSON can carry" in (caught.value.hint or "")


class Both(msgspec.Struct):
    a: int = 1


class Opaque(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    client: object = None
    lock: type = int
