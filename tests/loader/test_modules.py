import os
import textwrap

import legato as lg
from legato.loader.config import load_settings
from legato.loader.modules import load_project


def _project(tmp_path, config, **files):
    (tmp_path / "legato.toml").write_text(config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return load_settings(tmp_path, env={})


def test_paths_are_loaded_and_resources_configured(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = _project(
        tmp_path,
        'paths = ["pipes_a"]\n[resources.db]\nurl = "x://y"\nsize = "7"\n',
        **{
            "pipes_a/sales.py": """
            import legato as lg

            class Db(lg.Resource):
                url: str = "none"
                size: int = 1

            db = Db()

            @lg.asset
            def orders(db: Db):
                return db.url
        """,
            "pipes_a/_private.py": "raise RuntimeError('helpers starting with _ are not loaded')",
        },
    )
    loaded = load_project(settings)
    assert loaded.errors == []
    assert [s.key for s in loaded.project.steps] == ["orders"]
    db = loaded.project.resources["db"]
    assert (db.url, db.size) == ("x://y", 7)


def test_bad_resource_config_is_an_error_naming_the_field(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = _project(
        tmp_path,
        'modules = ["res_b"]\n[resources.db]\nsize = "lots"\n',
        **{
            "res_b.py": """
            import legato as lg

            class Db(lg.Resource):
                size: int = 1

            db = Db()
        """
        },
    )
    loaded = load_project(settings)
    [error] = loaded.errors
    assert isinstance(error, lg.ConfigError)
    assert "'lots' for Db.size" in str(error) and "is not a int" in str(error)


def test_a_configured_resource_without_a_definition_says_how_to_define_it(tmp_path):
    settings = _project(tmp_path, 'modules = []\n[resources.ghost]\nurl = "x"\n')
    messages = [str(e) for e in load_project(settings).errors]
    assert any("resource 'ghost' is configured but no module defines it" in m for m in messages)


def test_the_secrets_a_project_refers_to_are_masked_once_it_is_loaded(tmp_path, monkeypatch):
    from legato._internal.secrets import redact

    values = {
        name: f"{name.lower()}-{os.urandom(12).hex()}" for name in ("API_KEY", "DB_PW", "OTHER")
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = _project(
        tmp_path,
        'modules = ["with_secrets"]\nsecrets = ["OTHER", "NOT_SET_ANYWHERE"]\n',
        **{
            "with_secrets.py": """
            import legato as lg

            API_KEY = lg.SecretRef("API_KEY")

            class Db(lg.Resource):
                options: dict

            db = Db(options={"auth": [lg.SecretRef("DB_PW")]})

            @lg.asset
            def orders() -> int:
                return 1
        """
        },
    )
    loaded = load_project(settings)
    assert loaded.errors == []
    assert loaded.project.secret_names() == {"API_KEY", "DB_PW", "OTHER", "NOT_SET_ANYWHERE"}
    line = " ".join(values.values())
    assert redact(line) == "*** *** ***"  # no step resolved any of them
