"""Contract benchmarks: what checking a step's value before it is stored costs, per step, and
what comparing every hand-off costs when the project loads.

    python bench/contracts.py [--json out.json]

Each case calls the engine's own check (``validate_output``) on a node of a built graph, as
``WorkerEnv.store_output`` does before the IO manager writes. Prints medians and p95 of repeated
measurements; no assertions (figures are in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

import legato as lg
from legato.definitions.project import Project
from legato.execution.contracts import validate_output
from legato.graph.build import build_graph

ROWS = 1_000_000
TABLE = lg.TableContract(
    {"id": "int64", "amount": "float64", "region": "string"}, not_null=["id", "amount"]
)


class Order(msgspec.Struct):
    id: int
    amount: float
    region: str


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "median_us": statistics.median(samples) * 1e6,
        "p95_us": samples[max(0, int(len(samples) * 0.95) - 1)] * 1e6,
    }


def _node(fn: Callable[..., Any], contract: Any = None) -> Any:
    step = lg.asset(contract=contract)(fn) if contract is not None else lg.asset(fn)
    return build_graph(Project.of([step]))[step.key]


def unannotated():  # no annotation: nothing is checked
    return None


def small() -> dict[str, float]:
    return {}


def records() -> list[dict[str, float | int | str]]:
    return []


def structs() -> list[Order]:
    return []


def arrow_table() -> pa.Table:
    return None


def pandas_table() -> pd.DataFrame:
    return None


def polars_table() -> pl.DataFrame:
    return None


def value_cases() -> dict[str, tuple[Any, Any, int]]:
    rng = np.random.default_rng(1)
    rows = [{"id": i, "amount": float(i) / 3, "region": "eu"} for i in range(10_000)]
    return {
        "unannotated step (any value)": (_node(unannotated), rows, 20_000),
        "dict[str, float], 10 items": (
            _node(small),
            {f"k{i}": float(i) for i in range(10)},
            20_000,
        ),
        "list[dict[...]], 10,000 records": (_node(records), rows, 50),
        "list[Order] (Struct), 10,000 items": (
            _node(structs),
            [Order(r["id"], r["amount"], r["region"]) for r in rows],
            50,
        ),
        f"Arrow table, {ROWS:,} rows x 3, TableContract": (
            _node(arrow_table, TABLE),
            pa.table(
                {
                    "id": np.arange(ROWS),
                    "amount": rng.random(ROWS),
                    "region": pa.array(["eu", "us"] * (ROWS // 2)),
                }
            ),
            200,
        ),
        f"pandas table, {ROWS:,} rows x 3 (str column), TableContract": (
            _node(pandas_table, TABLE),
            pd.DataFrame(
                {"id": np.arange(ROWS), "amount": rng.random(ROWS), "region": ["eu"] * ROWS}
            ),
            20,
        ),
        f"polars table, {ROWS:,} rows x 3, TableContract": (
            _node(polars_table, TABLE),
            pl.DataFrame(
                {"id": np.arange(ROWS), "amount": rng.random(ROWS), "region": ["eu"] * ROWS}
            ),
            200,
        ),
    }


def load_case(assets: int, annotated: bool) -> dict[str, float]:
    """Building the graph of a chain of assets; annotated, contracts are compared on every edge."""
    steps = []
    hint, returns = (": list[dict]", " -> list[dict]") if annotated else ("", "")
    for i in range(assets):
        namespace: dict[str, Any] = {}
        upstream = f"a{i - 1}{hint}" if i else ""
        exec(  # the benchmark's own generated definitions
            f"from __future__ import annotations\ndef f({upstream}){returns}: ...", namespace
        )
        steps.append(lg.asset(key=f"a{i}")(namespace["f"]))
    project = Project.of(steps)
    result = timed(lambda: build_graph(project), 5)
    return {k.replace("_us", "_ms"): v / 1000 for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name, (node, value, repeat) in value_cases().items():
        validate_output(node, value)  # warm: the first call may import a library's helpers
        results[name] = timed(lambda node=node, value=value: validate_output(node, value), repeat)
        us = results[name]
        print(f"{name:<62} {us['median_us']:>12,.1f} us  p95 {us['p95_us']:>12,.1f}")
    for assets in (1_000, 5_000):
        for annotated in (False, True):
            kind = "annotated" if annotated else "unannotated"
            name = f"build the graph of {assets:,} {kind} assets"
            results[name] = load_case(assets, annotated)
            ms = results[name]
            print(f"{name:<62} {ms['median_ms']:>12,.1f} ms  p95 {ms['p95_ms']:>12,.1f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
