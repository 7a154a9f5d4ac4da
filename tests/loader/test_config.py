import pytest

import legato as lg
from legato.loader.config import load_settings


def test_settings_come_from_pyproject_with_environment_overrides(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.legato]\nmodules = ["a.b"]\nexecutor = "threads"\nmax_concurrency = 3\n'
        '[tool.legato.resources.warehouse]\nurl = "sqlite://"\n'
    )
    nested = tmp_path / "sub" / "dir"
    nested.mkdir(parents=True)
    settings = load_settings(
        nested, env={"LEGATO_EXECUTOR": "process", "LEGATO_RESOURCE__WAREHOUSE__POOL": "4"}
    )
    assert settings.root == tmp_path and settings.modules == ("a.b",)
    assert settings.executor == "process" and settings.max_concurrency == 3
    assert settings.resources == {"warehouse": {"url": "sqlite://", "pool": "4"}}
    assert settings.database_url == f"sqlite:///{tmp_path}/.legato/legato.db"
    assert settings.storage == tmp_path / ".legato" / "storage"


@pytest.mark.parametrize(
    "text, match",
    [
        ('modules = "x"\nexecutor = "gpu"\n', "executor 'gpu' is not one of"),
        ("modules = [1]\n", "modules must be a list of strings"),
        ('max_concurrency = "many"\n', "max_concurrency 'many' is not a whole number"),
        ("modules = [\n", "not valid TOML"),
        ('[resources]\nwarehouse = "x"\n', "resources.warehouse must be a table"),
        ('name = "sales team"\n', "name 'sales team' is not a project name"),
        ('durability = "paranoid"\n', "durability 'paranoid' is not one of normal, strict"),
        ("[run_queue]\nworker_nice = -5\n", "worker_nice must be a whole number from 0 to 19"),
    ],
)
def test_bad_settings_name_the_file_and_the_fix(tmp_path, text, match):
    (tmp_path / "legato.toml").write_text(text)
    with pytest.raises(lg.ConfigError, match=match) as info:
        load_settings(tmp_path, env={})
    assert str(tmp_path / "legato.toml") in str(info.value)


def test_durability_comes_from_the_file_and_the_environment_overrides_it(tmp_path):
    assert load_settings(tmp_path, env={}).durability == "normal"
    (tmp_path / "legato.toml").write_text('durability = "strict"\n')
    assert load_settings(tmp_path, env={}).durability == "strict"
    assert load_settings(tmp_path, env={"LEGATO_DURABILITY": "normal"}).durability == "normal"
    with pytest.raises(lg.ConfigError, match="LEGATO_DURABILITY: durability 'fsync'") as info:
        load_settings(tmp_path, env={"LEGATO_DURABILITY": "fsync"})
    assert 'durability = "strict"' in str(info.value)


def test_the_project_default_comes_from_legato_toml(tmp_path):
    (tmp_path / "legato.toml").write_text("[retention]\ndays = 30\nruns = 1000\n")
    assert load_settings(tmp_path, env={}).retention == lg.Retention(days=30, runs=1000)
    (tmp_path / "legato.toml").write_text("")
    assert load_settings(tmp_path, env={}).retention is None


@pytest.mark.parametrize(
    "text, match",
    [
        ("[retention]\ndays = -1\n", r"\[retention\] days=-1 is not a number of days > 0"),
        ('[retention]\nruns = "many"\n', r"\[retention\] runs='many' is not a whole number"),
        ("[retention]\nweeks = 4\n", r"unknown retention setting\(s\) \['weeks'\]"),
        ('retention = "30d"\n', "retention must be a table"),
    ],
)
def test_a_bad_project_default_names_the_file_and_the_fix(tmp_path, text, match):
    (tmp_path / "legato.toml").write_text(text)
    with pytest.raises(lg.ConfigError, match=match) as info:
        load_settings(tmp_path, env={})
    assert str(tmp_path / "legato.toml") in str(info.value) and info.value.hint


def test_a_project_is_named_for_the_store_it_shares_with_others(tmp_path):
    (tmp_path / "legato.toml").write_text("")
    assert load_settings(tmp_path, env={}).name == "default"
    (tmp_path / "legato.toml").write_text('name = "sales"\n')
    assert load_settings(tmp_path, env={}).name == "sales"


def test_the_run_queue_settings_are_read_with_their_defaults(tmp_path):
    (tmp_path / "legato.toml").write_text(
        "modules = []\n[run_queue]\nmax_concurrent_runs = 3\nworker_nice = 5\n"
        'pipelines = { nightly = 1 }\ntags = { "team=finance" = 2 }\n'
    )
    queue = load_settings(tmp_path, env={}).run_queue
    assert (queue.max_concurrent_runs, queue.worker_nice) == (3, 5)
    assert (queue.pipelines, queue.tags) == ({"nightly": 1}, {"team=finance": 2})
    (tmp_path / "legato.toml").write_text("modules = []\n")
    default = load_settings(tmp_path, env={}).run_queue
    assert (default.max_concurrent_runs, default.worker_nice) == (4, 10)
    assert (default.pipelines, default.tags) == ({}, {})
