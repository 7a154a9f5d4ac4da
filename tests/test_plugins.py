"""Plugins: a package registers an executor, a message source, an IO manager or an alert channel
by entry point, and Legato finds it by name exactly as it finds its own; an unknown name is an
error naming the name, where it came from and what is installed."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import legato as lg
from legato import plugins
from legato.cli.project import check
from legato.cli.run import run
from legato.definitions.messages import OnMessage
from legato.errors import ConfigError, DefinitionError
from legato.execution.api import launch_run, make_executor, materialize
from legato.graph.build import build_graph
from legato.integrations.brokers import open_source
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.engine import Store
from legato.store.runs import get_run
from legato.testing import VirtualDaemon


def _install(root: Path, module: str, source: str, entry_points: str) -> None:
    """A distribution as pip leaves it: a module and a dist-info with its entry points."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    module = f"acme_plugins_{tmp_path.name.replace('-', '_')}"
    _install(
        tmp_path,
        module,
        """
        from legato.execution.executors.inprocess import InProcessExecutor

        made = []

        class AcmeExecutor(InProcessExecutor):
            name = "acme"

        def make_executor(options):
            made.append(options)
            return AcmeExecutor(memory_io=options.memory_io)

        class QueueSpec:
            kind = "acme_queue"
            name = "acme_queue:orders"

        class QueueSource:
            name = "acme_queue:orders"

            def __init__(self, spec, *, now=None):
                self.spec = spec

        import json

        class JsonIOManager:  # each value a JSON file under `dir`

            def __init__(self, directory):
                self.directory = directory

            @classmethod
            def from_config(cls, config):
                config.check_fields(required={"dir"})
                return cls(config.path("dir", config.storage))

            def _path(self, context):
                name = context.asset_key or f"{context.run_id}-{context.step}"
                return self.directory / f"{name}.json"

            def store(self, context, value):
                self.directory.mkdir(parents=True, exist_ok=True)
                self._path(context).write_text(json.dumps(value))
                return {"path": str(self._path(context))}

            def load(self, context):
                return json.loads(self._path(context).read_text())

            def exists(self, context):
                return self._path(context).exists()

        class FileChannel:  # each alert message a line of JSON appended to `path`

            def __init__(self, channel):
                channel.check_fields(required={"path"})
                if not channel.options["path"].endswith(".jsonl"):
                    raise channel.error("is not a .jsonl file", 'path = "alerts.jsonl"', field="path")
                self.path = channel.options["path"]

            def send(self, payload):
                with open(self.path, "a") as f:
                    f.write(json.dumps(payload) + "\\n")
        """,
        f"""
        [legato.executors]
        acme = {module}:make_executor

        [legato.message_sources]
        acme_queue = {module}:QueueSource

        [legato.io_managers]
        acme_json = {module}:JsonIOManager.from_config

        [legato.alert_channels]
        acme_file = {module}:FileChannel
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield module
    sys.modules.pop(module, None)


@lg.task
def hello() -> str:
    return "hi"


def test_a_third_party_executor_is_found_by_name_like_the_built_ins(acme: str):
    assert {"acme", "inprocess", "process", "threads", "dask", "remote"} <= set(
        plugins.names(plugins.EXECUTORS)
    )
    executor = make_executor("acme", 3)
    assert executor.name == "acme" and sys.modules[acme].made[-1].max_concurrency == 3
    pipe = lg.Pipeline("p", select="hello", executor="acme")
    result = materialize([hello], executor="acme", pipeline=pipe)
    assert result.success and result.output("hello") == "hi"
    assert get_run(result.store, result.run_id).executor == "acme"


def test_a_third_party_message_source_is_opened_for_its_kind(acme: str):
    spec = __import__(acme).QueueSpec()
    trigger = OnMessage(spec, name="orders")
    assert trigger.describe()["source"] == "acme_queue:orders"
    assert open_source(spec).spec is spec


def test_an_unknown_executor_names_itself_its_origin_and_the_installed_ones(tmp_path: Path):
    with pytest.raises(DefinitionError) as defined:
        lg.Pipeline("nightly", select="hello", executor="gpu")
    message = str(defined.value)
    assert "pipeline 'nightly' (" in message and "test_plugins.py:" in message
    assert "executor 'gpu' is not one of the installed executors" in message
    assert "inprocess, process, remote, threads" in message and "legato.executors" in message
    with pytest.raises(ConfigError, match=r"^--executor: executor 'gpu' is not one"):
        make_executor("gpu", source="--executor")
    refused = CliRunner().invoke(run, ["--executor", "gpu", "*"])
    assert refused.exit_code == 2
    assert "Invalid value for '--executor': executor 'gpu' is not one of" in refused.output
    (tmp_path / "legato.toml").write_text('executor = "gpu"\n')
    with pytest.raises(ConfigError, match=r"legato.toml: executor 'gpu' is not one"):
        load_settings(tmp_path, env={})
    with pytest.raises(ConfigError, match=r"^LEGATO_EXECUTOR: executor 'tpu' is not one"):
        load_settings(tmp_path, env={"LEGATO_EXECUTOR": "tpu"})


def test_an_unknown_message_source_kind_is_refused_where_it_is_declared():
    class Spec:
        kind = "carrier_pigeon"
        name = "carrier_pigeon:loft"

    with pytest.raises(DefinitionError) as refused:
        OnMessage(Spec(), name="birds")
    message = str(refused.value)
    assert "OnMessage 'birds'" in message and "message source 'carrier_pigeon'" in message
    assert "(kafka, mqtt, nats, rabbitmq, redis)" in message


PROJECT = """
    import legato as lg

    @lg.asset
    def orders() -> list[int]:
        return [5, 7]

    @lg.asset(io_manager="archive")
    def total(orders: list[int]) -> int:
        return sum(orders)

    @lg.task
    def report(total: int) -> str:
        return f"total={total}"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A project directory whose module is importable, and removed from sys.modules after."""
    root = tmp_path / "project"
    root.mkdir()
    module = f"acme_project_{tmp_path.name.replace('-', '_')}"
    (root / f"{module}.py").write_text(textwrap.dedent(PROJECT))
    monkeypatch.syspath_prepend(str(root))
    yield root, module
    sys.modules.pop(module, None)


@pytest.mark.parametrize("executor", ["inprocess", "process"])
def test_a_third_party_io_manager_stores_the_assets_legato_toml_gives_it(
    acme: str, project: tuple[Path, str], sqlite_store: Store, executor: str
):
    root, module = project
    (root / "legato.toml").write_text(
        f'modules = ["{module}"]\n'
        '[io_manager]\ntype = "acme_json"\ndir = "lake"\n'
        '[io_managers.archive]\ntype = "acme_json"\ndir = "archive"\n'
    )
    assert {"acme_json", "filesystem", "fsspec"} <= set(plugins.names(plugins.IO_MANAGERS))
    settings = load_settings(root, env={})
    loaded = load_project(settings)
    assert loaded.errors == []
    result = launch_run(
        loaded.project,
        build_graph(loaded.project),
        "*",
        store=sqlite_store,
        storage_root=settings.storage,
        executor=make_executor(executor, 1),
        sys_path=loaded.sys_path,
    )
    assert result.success
    assert json.loads((root / "lake" / "orders.json").read_text()) == [5, 7]
    assert json.loads((root / "archive" / "total.json").read_text()) == 12
    assert result.output("report") == "total=12"  # a task result stays in the storage
    assert not (settings.storage / "assets").exists()


def test_a_third_party_alert_channel_is_chosen_by_its_type_and_sends_the_alerts(
    acme: str, tmp_path: Path, sqlite_store: Store
):
    sent = tmp_path / "alerts.jsonl"
    (tmp_path / "legato.toml").write_text(
        f'[alerts.channels.pager]\ntype = "acme_file"\npath = "{sent}"\n'
        '[[alerts.rules]]\non = "run_failed"\nchannels = ["pager"]\n'
    )
    alerts = load_settings(tmp_path, env={}).alerts
    assert {"acme_file", "email", "slack", "webhook"} <= set(plugins.names(plugins.ALERT_CHANNELS))

    @lg.asset
    def ledger() -> int:
        raise RuntimeError("the ledger API said 503")

    nightly = lg.Pipeline("nightly", select="ledger")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    daemon = VirtualDaemon(
        [nightly], steps=[ledger], start=start, store=sqlite_store, alerts=alerts
    )
    failed = nightly.run(steps=[ledger], store=sqlite_store, raise_on_error=False)
    daemon.advance(minutes=1)
    [line] = sent.read_text().splitlines()
    message = json.loads(line)
    assert (message["kind"], message["event"]) == ("run_failed", "firing")
    assert f"Run {failed.run_id} of pipeline 'nightly' failed" in message["summary"]


def test_a_plugin_checks_its_own_fields_when_the_config_loads(acme: str, project: tuple[Path, str]):
    root, module = project
    (root / "legato.toml").write_text(
        '[alerts.channels.pager]\ntype = "acme_file"\npath = "alerts.txt"\n'
    )
    with pytest.raises(ConfigError) as refused:
        load_settings(root, env={})
    assert "alerts.channels.pager.path is not a .jsonl file; path = " in str(refused.value)
    (root / "legato.toml").write_text(
        f'modules = ["{module}"]\n[io_managers.archive]\ntype = "acme_json"\ndirs = "a"\n'
    )
    [error] = load_project(load_settings(root, env={})).errors
    assert "io_managers.archive.dirs is not a setting; did you mean 'dir'?" in str(error)


def test_an_unknown_io_manager_or_alert_channel_type_names_the_installed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    toml = tmp_path / "legato.toml"
    toml.write_text('[io_manager]\ntype = "lakehouse"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path, env={})
    message = str(refused.value)
    assert f"{toml}: io_manager.type: IO manager 'lakehouse' is not one of the installed" in message
    assert "IO managers (filesystem, fsspec)" in message and "'legato.io_managers'" in message
    toml.write_text('[io_managers.archive]\ntype = "tape"\n')
    with pytest.raises(ConfigError, match=r"io_managers.archive.type: IO manager 'tape' is not"):
        load_settings(tmp_path, env={})

    toml.write_text('[alerts.channels.ops]\ntype = "pager"\n')
    monkeypatch.chdir(tmp_path)
    refused_check = CliRunner().invoke(check, [])
    assert refused_check.exit_code != 0
    message = str(refused_check.exception) + refused_check.output
    assert "alerts.channels.ops.type: alert channel 'pager' is not one of the installed" in message
    assert "alert channels (email, slack, webhook)" in message
    assert "'legato.alert_channels'" in message


def test_an_asset_naming_an_io_manager_nobody_defines_is_a_load_error(project: tuple[Path, str]):
    root, module = project
    (root / "legato.toml").write_text(f'modules = ["{module}"]\n')
    [error] = load_project(load_settings(root, env={})).errors
    assert isinstance(error, ConfigError)
    message = str(error)
    assert "asset 'total' (" in message and f"{module}.py:" in message
    assert (
        "uses io_manager 'archive', which no project module and no [io_managers.archive]" in message
    )
    assert "type = one of filesystem, fsspec" in message
