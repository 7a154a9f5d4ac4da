"""A canary secret hunt (RELIABILITY S-04/S-05): a random token, resolved through a SecretRef and
then printed, logged, nested in JSON, encoded and raised in an exception by a step, appears
nowhere: not in the store, not in any API response, not in the CLI's output. Only masks do."""

import base64
import os
import secrets
import sqlite3
import textwrap
import urllib.parse

import pytest
from fastapi.testclient import TestClient

import legato as lg
from legato._internal.secrets import MIN_LENGTH, redact, remember, resolve
from legato.errors import ConfigError
from legato.store.engine import Store
from legato.store.logs import read_logs
from legato.web.app import create_app
from legato_process import run_legato

PROJECT = """
    import base64, json, logging, sys, urllib.parse
    import legato as lg

    class Vault(lg.Resource):
        token: lg.SecretRef

        def setup(self) -> None:
            self.value = self.token.get()

    vault = Vault(token=lg.SecretRef("LEGATO_CANARY"))

    @lg.task
    def leaky(vault: Vault) -> None:
        s = vault.value
        print(s)
        print(f"connecting with password={s}!")
        logging.getLogger("leaky").warning("token is %s", s)
        print(json.dumps({"config": {"nested": [{"secret": s}]}}))
        print(base64.b64encode(s.encode()).decode())
        print(urllib.parse.quote(s, safe=""))
        sys.stderr.write(f"on stderr {s}\\n")
        raise RuntimeError(f"login failed for token {s}")
"""


def _forms(token: str) -> list[str]:
    raw = token.encode()
    return [
        token,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        urllib.parse.quote(token, safe=""),
        raw.hex(),
    ]


def _strings(value):
    """Every string inside a decoded JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _legato(project, env, *args):
    done = run_legato(project, *args, env=env)
    return done.stdout + done.stderr


@pytest.mark.parametrize("executor", ["process", "inprocess"])
def test_a_canary_secret_appears_nowhere(tmp_path, executor):
    token = f"{secrets.token_urlsafe(24)}/{secrets.token_hex(8)}+="  # 32+ random bytes' worth
    (tmp_path / "legato.toml").write_text(f'modules = ["pipes"]\nexecutor = "{executor}"\n')
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PROJECT))
    env = {**os.environ, "LEGATO_CANARY": token}
    cli = _legato(tmp_path, env, "run", "leaky")
    run_id = _legato(tmp_path, env, "runs", "--limit", "1", "--plain").strip()
    cli += _legato(tmp_path, env, "logs", run_id) + _legato(tmp_path, env, "runs")

    db = tmp_path / ".legato" / "legato.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    store = Store(f"sqlite:///{db}")
    app = create_app(store)
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 1))
    client.headers["Authorization"] = f"Bearer {app.state.legato.auth.local_token}"
    api = ""
    for path in ("", "/steps", "/events", "/logs"):
        response = client.get(f"/api/v1/runs/{run_id}{path}")
        assert response.status_code == 200, response.text
        api += response.text
    api += client.get("/api/v1/runs").text
    recorded = "\n".join(_strings(client.get(f"/api/v1/runs/{run_id}/logs").json()))
    recorded += "\n".join(_strings(client.get(f"/api/v1/runs/{run_id}/steps").json()))
    store.dispose()

    for where, text in (("the CLI", cli), ("the store", dump), ("the API", api)):
        leaked = [form for form in _forms(token) if form in text]
        assert not leaked, f"the canary leaked into {where} as {leaked}"
    # the step did print, log and raise: what was recorded is masked, not missing
    assert "password=***!" in recorded and "token is ***" in recorded
    assert '"secret": "***"' in recorded and "on stderr ***" in recorded
    assert "login failed for token ***" in recorded
    assert "login failed for token ***" in cli


def test_a_secret_too_short_to_mask_is_refused(monkeypatch):
    monkeypatch.setenv("LEGATO_SHORT", "a" * (MIN_LENGTH - 1))
    with pytest.raises(ConfigError, match="shorter than"):
        resolve("LEGATO_SHORT")
    assert redact("a bad day at the aquarium") == "a bad day at the aquarium"


def test_a_missing_secret_names_itself_and_the_fix(monkeypatch):
    monkeypatch.delenv("LEGATO_ABSENT", raising=False)
    with pytest.raises(ConfigError) as caught:
        resolve("LEGATO_ABSENT")
    assert "LEGATO_ABSENT" in str(caught.value) and "export LEGATO_ABSENT" in (
        caught.value.hint or ""
    )


def test_secrets_come_from_a_mounted_directory_too(monkeypatch, tmp_path):
    value = secrets.token_hex(16)
    (tmp_path / "DB_PASSWORD").write_text(value + "\n")
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.setenv("LEGATO_SECRETS_DIR", str(tmp_path))
    assert resolve("DB_PASSWORD") == value
    assert redact(f"dsn=postgresql://u:{value}@db") == "dsn=postgresql://u:***@db"


def test_masking_keeps_ordinary_text_and_masks_a_value_inside_a_longer_one():
    remember("correct-horse-battery")
    line = "the correct horse is not correct-horse-battery-staple"
    assert redact(line) == "the correct horse is not ***-staple"


class _Vault(lg.Resource):
    token: lg.SecretRef


@lg.asset
def fetched() -> str:
    return os.environ["LEGATO_UNRESOLVED_CANARY"]  # the value arrives without SecretRef.get()


@lg.asset
def shown(fetched: str) -> None:
    print(f"got {fetched}")
    raise RuntimeError(f"refused {fetched}")


def test_a_step_process_masks_the_project_secrets_that_no_step_resolved(monkeypatch, tmp_path):
    token = f"unresolved-{secrets.token_hex(16)}"
    monkeypatch.setenv("LEGATO_UNRESOLVED_CANARY", token)
    vault = _Vault(token=lg.SecretRef("LEGATO_UNRESOLVED_CANARY"))  # referenced, never read
    result = lg.materialize(
        [fetched, shown],
        resources={"vault": vault},
        executor="process",
        storage=tmp_path / ".legato" / "storage",
        raise_on_error=False,
    )
    lines = [line.message for line in read_logs(result.store, result.run_id)]
    error = result.failures()["shown"]
    assert "got ***" in lines and error["message"] == "refused ***", (lines, error)
    assert token not in repr(lines) + repr(error)
