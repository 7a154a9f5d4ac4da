"""``[io_manager]`` and ``[io_managers.NAME]`` in legato.toml: Legato's own IO managers are chosen
by type like a plugin's, store the assets they are given, and each mistake names the file, the key
and the fix."""

from __future__ import annotations

import pickle
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.definitions.resources import SecretRef
from legato.errors import ConfigError
from legato.execution.api import launch_run, make_executor
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.io.fsspec import FsspecIOManager
from legato.execution.io.signing import HEADER, load_key
from legato.graph.build import build_graph
from legato.loader.config import load_settings
from legato.loader.modules import load_project
from legato.store.engine import Store

MODULE = """
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
    """A project directory with an importable module, removed from sys.modules after."""
    module = f"io_project_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path, module
    sys.modules.pop(module, None)


def test_the_built_in_io_managers_store_the_assets_legato_toml_gives_them(
    project: tuple[Path, str], sqlite_store: Store
):
    root, module = project
    (root / "legato.toml").write_text(
        f'modules = ["{module}"]\n'
        f'[io_manager]\ntype = "fsspec"\nurl = "file://{root}/lake"\n'
        "storage_options = { auto_mkdir = true }\n"  # a local filesystem makes no directory else
        '[io_managers.archive]\ntype = "filesystem"\nroot = "archive"\n'
    )
    settings = load_settings(root, env={})
    loaded = load_project(settings)
    assert loaded.errors == []
    managers = loaded.project.io_managers
    assert isinstance(managers["io_manager"], FsspecIOManager)
    assert isinstance(managers["archive"], FilesystemIOManager)
    assert managers["archive"].root == root / "archive"
    result = launch_run(
        loaded.project,
        build_graph(loaded.project),
        "*",
        store=sqlite_store,
        storage_root=settings.storage,  # the engine stages and publishes values under it
        executor=make_executor("inprocess"),
    )
    assert result.success
    assert result.output("report") == "total=12"
    lake = root / "lake" / "assets" / "orders" / "__all__.pkl"
    assert pickle.loads(lake.read_bytes()[HEADER:]) == [5, 7]  # signed with the project's key
    assert managers["io_manager"].key_file == root / ".legato" / "signing.key"
    assert managers["io_manager"].key.id == load_key(settings.storage).id
    total = IOContext(StepKey("total"), result.run_id, "total")
    assert FilesystemIOManager(root / "archive").load(total) == 12
    assert not (settings.storage / "assets").exists()  # only the run's task result is there


def test_a_secret_in_storage_options_travels_by_name_and_is_read_where_it_is_opened(
    project: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
):
    from legato.execution.io.fsspec import _resolved

    root, module = project
    (root / "legato.toml").write_text(
        f'modules = ["{module}"]\n[io_managers.archive]\ntype = "fsspec"\n'
        'url = "s3://archive/legato"\n'
        'storage_options = { key = "me", secret = { secret = "ARCHIVE_SECRET" } }\n'
    )
    loaded = load_project(load_settings(root, env={}))
    assert loaded.errors == []
    archive = loaded.project.io_managers["archive"]
    assert archive.storage_options == {"key": "me", "secret": SecretRef("ARCHIVE_SECRET")}
    assert "ARCHIVE_SECRET" in loaded.project.secret_names()  # masked wherever steps run
    monkeypatch.setenv("ARCHIVE_SECRET", "s3cr3t-value")
    assert _resolved(archive.storage_options) == {"key": "me", "secret": "s3cr3t-value"}
    assert b"s3cr3t-value" not in pickle.dumps(archive)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[io_manager]\nroot = "x"\n', "io_manager.type is missing; set type = "),
        ('io_managers = "fsspec"\n', "io_managers must be a table"),
        (
            '[io_managers.io_manager]\ntype = "filesystem"\n',
            "io_managers.io_manager is the default's name; write the project's default as "
            "[io_manager]",
        ),
        ('io_manager = "tape"\n', "io_manager.type: IO manager 'tape' is not one of"),
    ],
)
def test_a_table_that_names_no_installed_io_manager_is_refused_when_settings_load(
    tmp_path: Path, config: str, expected: str
):
    (tmp_path / "legato.toml").write_text(config)
    with pytest.raises(ConfigError) as refused:
        load_settings(tmp_path, env={})
    assert f"{tmp_path / 'legato.toml'}: {expected}" in str(refused.value)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('type = "fsspec"', "io_managers.archive.url is missing; a fsspec IO manager needs url"),
        ('type = "fsspec"\nurl = "archive"', "io_managers.archive.url 'archive' is not a URL"),
        ('type = "filesystem"\nroots = "a"', "io_managers.archive.roots is not a setting; did"),
        ('type = "filesystem"\nroot = 3', "io_managers.archive.root 3 is not a path"),
    ],
)
def test_a_bad_field_is_a_load_error_naming_the_file_and_the_key(
    project: tuple[Path, str], table: str, expected: str
):
    root, module = project
    (root / "legato.toml").write_text(f'modules = ["{module}"]\n[io_managers.archive]\n{table}\n')
    [error] = load_project(load_settings(root, env={})).errors
    assert isinstance(error, ConfigError)
    assert f"{root / 'legato.toml'}: {expected}" in str(error)


def test_an_io_manager_defined_by_a_module_and_by_the_config_is_refused(
    project: tuple[Path, str],
):
    root, module = project
    with (root / f"{module}.py").open("a") as f:
        f.write("\nfrom legato import FilesystemIOManager\narchive = FilesystemIOManager('a')\n")
    (root / "legato.toml").write_text(
        f'modules = ["{module}"]\n[io_managers.archive]\ntype = "filesystem"\n'
    )
    [error] = load_project(load_settings(root, env={})).errors
    assert f"io_managers.archive and `archive` of module {module} both define IO manager" in str(
        error
    )
