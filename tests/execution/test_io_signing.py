"""Stored pickles are signed, and only values this install signed at their own place are loaded:
a pickle planted in the storage never runs, whatever process loads it."""

import os
import pickle
import stat
import threading

import pytest

import legato as lg
from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.errors import ConfigError, SignatureError
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.io.signing import HEADER, default_key_file, load_key


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("LEGATO_SIGNING_KEY", raising=False)
    monkeypatch.delenv("LEGATO_SIGNING_KEY_FILE", raising=False)


class _Planted:
    """Unpickling this creates the file ``path``: the proof that a planted pickle ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


ORDERS = IOContext(StepKey("orders", "2025-01-01"), "run1", "orders")


def _file(io, context=ORDERS):
    return io.root / "assets" / context.asset_key / f"{context.partition_key}.pkl"


def test_a_planted_pickle_is_refused_before_it_runs_naming_the_file_the_asset_and_the_fix(
    tmp_path,
):
    io = FilesystemIOManager(tmp_path / ".legato" / "storage")
    io.store(ORDERS, [1, 2])
    canary = tmp_path / "planted-pickle-ran"
    _file(io).write_bytes(pickle.dumps(_Planted(canary)))
    with pytest.raises(SignatureError) as caught:
        io.load(ORDERS)
    assert not canary.exists()
    message = str(caught.value)
    assert str(_file(io)) in message and "asset 'orders' partition '2025-01-01'" in message
    assert "not signed" in message and "legato run orders --partition 2025-01-01" in message


def test_a_changed_value_and_a_value_moved_to_another_place_are_refused(tmp_path):
    io = FilesystemIOManager(tmp_path / "storage")
    io.store(ORDERS, {"total": 100})
    signed = _file(io).read_bytes()
    _file(io).write_bytes(signed.replace(pickle.dumps(100)[2:-1], pickle.dumps(999)[2:-1]))
    with pytest.raises(SignatureError, match="does not match its content"):
        io.load(ORDERS)

    other = IOContext(StepKey("orders", "2025-01-02"), "run1", "orders")
    io.store(other, {"total": 1})
    _file(io, other).write_bytes(signed)  # a genuine value, copied over another one
    with pytest.raises(SignatureError, match="changed or moved"):
        io.load(other)


def test_a_value_signed_with_another_key_names_both_keys_and_how_to_share_one(
    tmp_path, monkeypatch
):
    writer = FilesystemIOManager(tmp_path / "a" / "storage")
    writer.store(ORDERS, "value")
    monkeypatch.setenv("LEGATO_SIGNING_KEY", "k" * 40)
    reader = FilesystemIOManager(tmp_path / "a" / "storage")
    with pytest.raises(SignatureError) as caught:
        reader.load(ORDERS)
    message = str(caught.value)
    assert writer.key.id in message and reader.key.id in message
    assert "$LEGATO_SIGNING_KEY" in message and "set LEGATO_SIGNING_KEY" in message


def test_the_key_file_is_made_once_beside_the_storage_with_mode_0600_and_can_be_shared(
    tmp_path, monkeypatch
):
    storage = tmp_path / "project" / ".legato" / "storage"
    keys = []
    barrier = threading.Barrier(8)

    def first_use():
        barrier.wait()
        keys.append(load_key(storage).id)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = storage.parent / "signing.key"
    assert path == default_key_file(storage) and len(set(keys)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing.key"]  # no leftovers
    assert default_key_file(tmp_path / "data") == tmp_path / ".legato" / "signing.key"

    io = FilesystemIOManager(storage)
    io.store(ORDERS, "shared")
    monkeypatch.setenv("LEGATO_SIGNING_KEY", path.read_text().strip())  # another host
    assert FilesystemIOManager(storage).load(ORDERS) == "shared"


def test_a_key_file_others_can_read_or_change_is_refused(tmp_path):
    storage = tmp_path / ".legato" / "storage"
    load_key(storage)
    default_key_file(storage).chmod(0o644)
    with pytest.raises(ConfigError, match=r"mode 0644.*chmod 600"):
        load_key(storage)


def test_a_worker_never_makes_a_key_of_its_own(tmp_path, monkeypatch):
    io = FilesystemIOManager(tmp_path / "storage", create_key=False)
    with pytest.raises(ConfigError, match=r"no signing key.*LEGATO_SIGNING_KEY"):
        io.store(ORDERS, 1)
    assert not default_key_file(io.root).exists()
    monkeypatch.setenv("LEGATO_SIGNING_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        io.load(ORDERS)


def test_signatures_survive_staging_and_publishing(tmp_path):
    io = FilesystemIOManager(tmp_path / "storage")
    metadata = io.stage(ORDERS, [3, 4], "attempt-1")
    assert not io.exists(ORDERS)
    io.publish(metadata)
    assert io.load(ORDERS) == [3, 4]
    assert _file(io).read_bytes()[:HEADER].startswith(b"LGTOSIG1")
    with pytest.raises(TypeError, match="never travels"):
        pickle.dumps(io.key)
    assert pickle.loads(pickle.dumps(io)).load(ORDERS) == [3, 4]  # its key is read again there


@lg.asset
def source() -> dict:
    return {"rows": 3}


@lg.asset
def report(source: dict) -> int:
    return source["rows"]


def test_a_worker_process_refuses_an_upstream_value_planted_between_runs(tmp_path):
    storage = tmp_path / ".legato" / "storage"
    lg.materialize([source, report], executor="process", storage=storage)
    canary = tmp_path / "planted-pickle-ran"
    upstream = storage / "assets" / "source" / "__all__.pkl"
    upstream.write_bytes(pickle.dumps(_Planted(canary)))
    result = lg.materialize(
        [source, report],
        selection="report",
        executor="process",
        storage=storage,
        raise_on_error=False,
    )
    assert not result.success and not canary.exists()
    error = result.failures()["report"]
    assert error["type"] == "legato.errors.SignatureError", error
    assert str(upstream) in error["message"] and "asset 'source'" in error["message"]
    assert os.environ.get("LEGATO_SIGNING_KEY") is None


def test_an_unusable_key_is_reported_before_any_run_is_recorded(tmp_path):
    from legato.store.engine import Store
    from legato.store.runs import list_runs

    storage = tmp_path / ".legato" / "storage"
    load_key(storage)
    default_key_file(storage).chmod(0o664)
    store = Store("sqlite://")
    with pytest.raises(ConfigError, match="chmod 600"):
        lg.materialize([source], executor="process", storage=storage, store=store)
    assert list_runs(store) == []
    store.dispose()
