"""Plugins: a package registers an executor or a message source by entry point, and Legato finds
it by name exactly as it finds its own; an unknown name is an error naming the name, where it came
from and what is installed."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import legato as lg
from legato import plugins
from legato.cli.run import run
from legato.definitions.messages import OnMessage
from legato.errors import ConfigError, DefinitionError
from legato.execution.api import make_executor, materialize
from legato.integrations.brokers import open_source
from legato.loader.config import load_settings
from legato.store.runs import get_run


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
        """,
        f"""
        [legato.executors]
        acme = {module}:make_executor

        [legato.message_sources]
        acme_queue = {module}:QueueSource
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
