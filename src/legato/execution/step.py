"""Run one step attempt: load inputs → call the user function inside the error boundary → store."""

from __future__ import annotations

import time
import traceback
import typing
from collections.abc import Callable
from typing import Any

from legato._internal import tables
from legato._internal.metadata import clean_metadata
from legato._internal.secrets import redact
from legato.definitions.checks import CHECK_FAILED, CheckInfo, check_outcome
from legato.definitions.config import build_config
from legato.definitions.keys import StepKey
from legato.definitions.output import Output
from legato.execution.capture import LogRecordTuple, LogSink, step_sink
from legato.execution.context import StepContext
from legato.execution.resources import WorkerEnv
from legato.execution.spec import StepError, StepOutcome, StepSpec


class StepTimeout(TimeoutError):
    """The step ran past its timeout."""


def run_step(
    spec: StepSpec, env: WorkerEnv, on_logs: Callable[[list[LogRecordTuple]], None] | None = None
) -> StepOutcome:
    """Execute ``spec`` in this process and describe what happened. Never raises for user errors."""
    started_at, started = time.time(), time.perf_counter()
    sink = LogSink(on_logs)
    node = env.graph[spec.step.node]
    step = node.step
    checked: dict[str, Any] | None = None
    length, metadata = None, {}
    try:
        with step_sink(sink):
            kwargs: dict[str, Any] = {}
            if spec.inputs:
                annotations = {p.name: p.annotation for p in step.params}
                for param, ref in spec.inputs.items():
                    value = env.load_input(ref)
                    _check_type(step.key, param, ref.step, value, annotations.get(param))
                    kwargs[param] = value
            for param, name in node.resources.items():
                kwargs[param] = env.resource(name, step.key, step.source)
            if node.config_param:
                model = _annotation(step.params, node.config_param)
                owner = step.check.asset if step.check else step.key  # a check: its asset's
                own = spec.run_config.get(owner)
                kwargs[node.config_param] = build_config(model, own, step=owner)
            context = None
            if node.context_param:
                context = kwargs[node.context_param] = StepContext(
                    spec.run_id,
                    spec.step,
                    spec.attempt,
                    spec.run_config,
                    {n: env.resource(n, step.key, step.source) for n in node.resources.values()},
                    spec.partition_keys,
                    spec.target_materialized_at,
                )
            value = step.fn(**kwargs)
            if step.check is not None:  # a check's result is recorded, not stored
                checked = check_outcome(step.key, step.check, value)
            else:
                given = dict(context.metadata) if context is not None else {}
                if isinstance(value, Output):
                    value, given = value.value, {**given, **value.metadata}
                if spec.partition_keys:
                    _check_range_value(step.key, spec.partition_keys, value)
                length = _length(step.key, value) if spec.report_length else None
                metadata = env.store_output(spec, step.kind, value)
                if step.kind == "asset":
                    metadata = _handoff(metadata, value, given, spec, step.key)
    except BaseException as exc:  # the error boundary: anything user code raises is a step failure
        if isinstance(exc, KeyboardInterrupt):
            raise
        return StepOutcome(
            spec.step,
            spec.attempt,
            False,
            time.perf_counter() - started,
            error=describe_error(exc),
            logs=sink.close(),
            started_at=started_at,
        )
    if checked is not None:
        assert step.check is not None
        return _checked(spec, step.key, step.check, checked, sink, started, started_at)
    return StepOutcome(
        spec.step,
        spec.attempt,
        True,
        time.perf_counter() - started,
        length=length,
        metadata=metadata,
        logs=sink.close(),
        started_at=started_at,
    )


def _checked(
    spec: StepSpec,
    key: str,
    info: CheckInfo,
    result: dict[str, Any],
    sink: LogSink,
    started: float,
    started_at: float,
) -> StepOutcome:
    """A check's outcome: its result, and a failure when it blocks its asset's downstream."""
    error = None
    if info.blocking and result["outcome"] == "fail":
        found = ", ".join(f"{k}={v}" for k, v in result["metadata"].items())
        error = StepError(
            CHECK_FAILED,
            f"blocking check {key} failed on {info.asset}" + (f": {found}" if found else ""),
            "",
            (CHECK_FAILED,),
        )
    return StepOutcome(
        spec.step,
        spec.attempt,
        error is None,
        time.perf_counter() - started,
        error=error,
        metadata={"check": result},
        logs=sink.close(),
        started_at=started_at,
    )


def _handoff(
    stored: dict[str, Any], value: Any, given: dict[str, Any], spec: StepSpec, key: str
) -> dict[str, Any]:
    """What a materialization records: what the IO manager wrote (``path``, ``bytes``), what
    Legato measures of the value (``rows``, ``schema_hash``), and the step's own metadata, which
    wins (one set for every key of a single-run step)."""
    own = clean_metadata(given, what=f"asset {key!r}")
    if spec.partition_keys:
        parts = stored["partitions"]
        return {"partitions": {k: {**parts[k], **tables.measure(value[k]), **own} for k in parts}}
    return {**stored, **tables.measure(value), **own}


def describe_error(exc: BaseException) -> StepError:
    types = tuple(_qualname(c) for c in type(exc).__mro__ if issubclass(c, BaseException))
    tb = redact("".join(traceback.format_exception(exc)))
    message = redact(str(exc) or type(exc).__name__)
    return StepError(_qualname(type(exc)), message[:10_000], tb[-50_000:], types)


def _qualname(cls: type) -> str:
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _check_range_value(key: str, keys: tuple[str, ...], value: Any) -> None:
    if not isinstance(value, dict):
        raise TypeError(
            f"single-run asset {key!r} must return {{partition key: value}} for its "
            f"{len(keys)} key(s), not {type(value).__name__}"
        )
    missing = [k for k in keys if k not in value]
    if missing:
        raise KeyError(
            f"single-run asset {key!r} returned no value for {missing[:5]}"
            + (" …" if len(missing) > 5 else "")
        )


def _length(key: str, value: Any) -> int:
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"task {key!r} feeds a map_over step, so it must return a list or tuple, "
            f"not {type(value).__name__}"
        )
    return len(value)


def _annotation(params: Any, name: str) -> Any:
    for p in params:
        if p.name == name:
            return p.annotation
    return None


def _check_type(key: str, param: str, upstream: StepKey, value: Any, annotation: Any) -> None:
    """Refuse an input whose type plainly contradicts the parameter's annotation."""
    if typing.get_origin(annotation) is typing.Annotated:  # the type is the first argument
        annotation = typing.get_args(annotation)[0]
    expected = typing.get_origin(annotation) or annotation
    if expected in (object, typing.Any) or not isinstance(expected, type):
        return
    if isinstance(value, expected):
        return
    if expected is float and isinstance(value, int):
        return
    raise TypeError(
        f"step {key!r}: parameter {param!r} is annotated {getattr(annotation, '__name__', annotation)}"
        f" but upstream {upstream.node!r} produced {type(value).__name__}; fix the upstream's "
        f"return value or the annotation"
    )
