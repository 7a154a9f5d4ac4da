"""The fsspec IO manager against a real S3 endpoint (moto's server on loopback): atomic commits,
checksums, safe keys, and whole runs whose values live in the bucket."""

from __future__ import annotations

import hashlib
import pickle
import socket
from collections.abc import Iterator
from typing import Any

import pytest

import legato as lg
from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.errors import NotFoundError

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def io(s3_endpoint: str, request: pytest.FixtureRequest) -> Any:
    from legato.execution.io.fsspec import FsspecIOManager

    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "eu-west-1"},
    }
    bucket = f"legato-{request.node.name.lower().replace('_', '-')[:40]}"
    manager = FsspecIOManager(f"s3://{bucket}/root", storage_options=options)
    manager.fs.mkdir(bucket)
    return manager


def test_values_round_trip_with_their_checksum(io):
    ctx = IOContext(StepKey("sales.orders", "2024-01-01"), "run1", "sales.orders")
    meta = io.store(ctx, {"rows": [1, 2, 3]})
    assert io.load(ctx) == {"rows": [1, 2, 3]} and io.exists(ctx)
    data = pickle.dumps({"rows": [1, 2, 3]}, protocol=pickle.HIGHEST_PROTOCOL)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["bytes"] == len(data)
    assert meta["uri"].endswith("/root/assets/sales/orders/2024-01-01.pkl")
    assert meta["uri"].startswith("s3://")
    assert io.fs.find(f"{io.url[5:]}/.staging") == []  # nothing staged is left behind


def test_task_results_live_under_their_run(io):
    ctx = IOContext(StepKey("report", "", 3), "run9")
    io.store(ctx, 42)
    assert io.key_of(ctx).endswith("/root/runs/run9/report%233.pkl")
    assert io.load(ctx) == 42


def test_a_failed_write_leaves_the_previous_version_whole(io):
    ctx = IOContext(StepKey("model"), "run1", "model")
    io.store(ctx, "version 1")
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        io.store(ctx, lambda: None)  # cannot be pickled: nothing is committed
    assert io.load(ctx) == "version 1"
    # A crash between staging and commit leaves an orphan no reader looks at.
    io.fs.pipe_file(f"{io.url[5:]}/.staging/orphan.pkl", b"partial")
    assert io.load(ctx) == "version 1"


def test_hostile_partition_keys_stay_inside_the_root(io):
    for key in ("../../escape", "/etc/passwd", "a/b", "%2e%2e%2f", "..", "x" * 500):
        ctx = IOContext(StepKey("events", key), "run1", "events")
        io.store(ctx, key)
        stored = io.key_of(ctx)
        assert stored.startswith(f"{io.url[5:]}/assets/events/")
        assert "/" not in stored.rsplit("/assets/events/", 1)[1]
        assert io.load(ctx) == key


def test_a_missing_value_is_a_clear_not_found(io):
    with pytest.raises(NotFoundError, match="no stored value for ghost"):
        io.load(IOContext(StepKey("ghost"), "run1", "ghost"))


def test_a_run_on_the_process_pool_stores_its_assets_in_the_bucket(io, tmp_path):
    @lg.asset
    def raw() -> list[int]:
        return [1, 2, 3]

    @lg.asset
    def doubled(raw: list[int]) -> list[int]:
        return [x * 2 for x in raw]

    result = lg.materialize(
        [raw, doubled],
        executor="process",
        storage=tmp_path / "s",
        io_managers={"io_manager": io},  # the default for every asset
    )
    materialized = [e for e in result.events if e["type"] == "materialized"]
    assert {m["data"]["metadata"]["uri"].rsplit("/", 1)[1] for m in materialized} == {"__all__.pkl"}
    assert all(len(m["data"]["metadata"]["sha256"]) == 64 for m in materialized)
    assert io.load(IOContext(StepKey("doubled"), result.run_id, "doubled")) == [2, 4, 6]
