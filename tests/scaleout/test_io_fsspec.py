"""The fsspec IO manager against a real S3 endpoint (moto's server on loopback): atomic commits,
checksums, safe keys, signed values (a pickle planted in the bucket never runs), and whole runs
whose values live in the bucket."""

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
from legato.errors import ConfigError, NotFoundError, SignatureError
from legato.execution.io.signing import HEADER

# module-scoped fixtures (clusters, workers, servers) are costly to start again
pytestmark = pytest.mark.together

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


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEGATO_SIGNING_KEY", raising=False)
    monkeypatch.delenv("LEGATO_SIGNING_KEY_FILE", raising=False)


@pytest.fixture
def key_file(tmp_path: Any) -> Any:
    """Where the engine of a project whose storage is ``tmp_path/s`` keeps its signing key."""
    return tmp_path / ".legato" / "signing.key"


@pytest.fixture
def io(s3_endpoint: str, request: pytest.FixtureRequest, key_file: Any) -> Any:
    from legato.execution.io.fsspec import FsspecIOManager

    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "eu-west-1"},
    }
    bucket = f"legato-{request.node.name.lower().replace('_', '-')[:40]}"
    manager = FsspecIOManager(f"s3://{bucket}/root", storage_options=options, key_file=key_file)
    manager.fs.mkdir(bucket)
    return manager


def test_values_round_trip_with_their_checksum(io):
    ctx = IOContext(StepKey("sales.orders", "2024-01-01"), "run1", "sales.orders")
    meta = io.store(ctx, {"rows": [1, 2, 3]})
    assert io.load(ctx) == {"rows": [1, 2, 3]} and io.exists(ctx)
    stored = io.fs.cat_file(io.key_of(ctx))  # the signed pickle: what a reader can check
    data = pickle.dumps({"rows": [1, 2, 3]}, protocol=pickle.HIGHEST_PROTOCOL)
    assert stored[HEADER:] == data and meta["bytes"] == len(stored) == HEADER + len(data)
    assert meta["sha256"] == hashlib.sha256(stored).hexdigest()
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


class _Planted:
    """Unpickling this creates the file ``path``: the proof that a planted pickle ran."""

    def __init__(self, path: Any) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (str(self.path), "w"))


ORDERS = IOContext(StepKey("orders", "2025-01-01"), "run1", "orders")


def test_a_pickle_planted_in_the_bucket_is_refused_before_it_runs(io, tmp_path):
    io.store(ORDERS, [1, 2])
    canary = tmp_path / "planted-pickle-ran"
    io.fs.pipe_file(io.key_of(ORDERS), pickle.dumps(_Planted(canary)))
    with pytest.raises(SignatureError) as caught:
        io.load(ORDERS)
    assert not canary.exists()
    message = str(caught.value)
    assert f"s3://{io.key_of(ORDERS)}" in message and "not signed" in message
    assert "asset 'orders' partition '2025-01-01'" in message
    assert "legato run orders --partition 2025-01-01" in message


def test_a_changed_value_and_a_value_copied_to_another_key_are_refused(io):
    io.store(ORDERS, {"total": 100})
    signed = io.fs.cat_file(io.key_of(ORDERS))
    changed = signed.replace(pickle.dumps(100)[2:-1], pickle.dumps(999)[2:-1])
    io.fs.pipe_file(io.key_of(ORDERS), changed)
    with pytest.raises(SignatureError, match="does not match its content"):
        io.load(ORDERS)
    other = IOContext(StepKey("orders", "2025-01-02"), "run1", "orders")
    io.store(other, {"total": 1})
    io.fs.pipe_file(io.key_of(other), signed)  # a genuine value, copied over another one
    with pytest.raises(SignatureError, match="changed or moved"):
        io.load(other)


def test_a_copy_sent_to_a_worker_never_makes_a_key_and_shares_the_engine_s(
    io, key_file, monkeypatch
):
    worker = pickle.loads(pickle.dumps(io))  # as the project travels to a worker process
    with pytest.raises(ConfigError, match=r"no signing key.*LEGATO_SIGNING_KEY"):
        worker.store(ORDERS, 1)
    assert not key_file.exists()
    io.store(ORDERS, "from the engine")  # the engine's own makes it
    assert key_file.exists() and pickle.loads(pickle.dumps(io)).load(ORDERS) == "from the engine"
    monkeypatch.setenv("LEGATO_SIGNING_KEY", "k" * 40)  # a host with another key
    with pytest.raises(SignatureError, match="signed with another key"):
        pickle.loads(pickle.dumps(io)).load(ORDERS)
