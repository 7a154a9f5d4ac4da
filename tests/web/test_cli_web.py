"""``legato users`` and ``legato up``'s refusal to expose a server without authentication."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from legato.cli.main import cli
from legato.cli.web import check_bind, local_token, up, users, write_token
from legato.errors import ConfigError
from legato.store.engine import Store
from legato.web import accounts


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "legato.toml").write_text("modules = []\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEGATO_DATABASE_URL", raising=False)
    return tmp_path


def _store(project: Path) -> Store:
    return Store(f"sqlite:///{project}/.legato/legato.db")


@click.group(cls=type(cli))
@click.pass_context
def root(ctx: click.Context) -> None:
    """Like ``legato`` (same error handling), with the web commands added (not yet registered)."""
    ctx.obj = {"project_dir": None}


root.add_command(users)
root.add_command(up)


def _invoke(command, args, **kwargs):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(root, [command.name, *args], catch_exceptions=False, **kwargs)


def test_users_add_generates_a_password_shown_once(project: Path):
    result = _invoke(users, ["add", "ada", "--role", "admin"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("password"))
    password = line.rsplit(" ", 1)[1]
    store = _store(project)
    assert accounts.authenticate(store, "ada", password) is not None
    with store.read() as conn:
        dump = "\n".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM web_users"))
    assert password not in dump and "scrypt$" in dump


def test_users_add_from_stdin_set_role_deactivate_and_token(project: Path):
    result = _invoke(
        users, ["add", "otto", "--role", "viewer", "--password-stdin"], input="otto-password-1\n"
    )
    assert result.exit_code == 0 and "password (shown once" not in result.output
    assert _invoke(users, ["set-role", "otto", "operator"]).exit_code == 0
    assert accounts.get_user(_store(project), "otto").role.value == "operator"
    token = _invoke(users, ["token", "otto", "--label", "ci"])
    assert token.exit_code == 0 and "lgt_" in token.output
    assert _invoke(users, ["deactivate", "otto"]).exit_code == 0
    assert "deactivated" in _invoke(users, ["list"]).output


def test_users_add_refuses_bad_input_with_a_fix(project: Path):
    weak = CliRunner().invoke(
        root, ["users", "add", "x", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 2 and "shorter than" in weak.output
    role = CliRunner().invoke(root, ["users", "add", "x", "--role", "root"])
    assert role.exit_code == 2


def test_up_refuses_a_public_bind_without_users(project: Path):
    result = CliRunner().invoke(root, ["up", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without authentication" in result.output
    assert "legato users add" in result.output


def test_check_bind_local_mode_only_on_loopback(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    assert check_bind("127.0.0.1", store) is True and check_bind("::1", store) is True
    with pytest.raises(ConfigError):
        check_bind("0.0.0.0", store)
    accounts.add_user(store, "ada", "admin", "ada-password-1")
    assert check_bind("0.0.0.0", store) is False  # users exist: no implicit admin on this bind


def test_the_local_token_is_chosen_by_env_or_random_and_written_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("LEGATO_UP_TOKEN", raising=False)
    assert local_token() != local_token() and len(local_token()) >= 32
    monkeypatch.setenv("LEGATO_UP_TOKEN", "chosen-by-the-test-0001")
    assert local_token() == "chosen-by-the-test-0001"
    monkeypatch.setenv("LEGATO_UP_TOKEN", "short")
    with pytest.raises(ConfigError, match="16 to 200 printable"):
        local_token()
    path = write_token(tmp_path / "state", "first-token-value")
    assert path.read_text() == "first-token-value\n" and path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    assert write_token(tmp_path / "state", "second-token").read_text() == "second-token\n"


def test_behind_a_tls_proxy_named_by_forwarded_allow_ips_a_browser_can_log_in(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    import uvicorn
    from fastapi.testclient import TestClient

    accounts.add_user(_store(project), "ada", "admin", "ada-password-1")
    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    for args, trusted in (([], None), (["--forwarded-allow-ips", "127.0.0.1"], "127.0.0.1")):
        assert _invoke(up, ["--no-daemon", *args]).exit_code == 0
        assert served["proxy_headers"] is False  # the app itself believes the named proxy only
        assert served["app"].state.legato.auth.forwarded_allow_ips == trusted
    # the proxy terminates TLS and says so in X-Forwarded-Proto
    browser = TestClient(served["app"], base_url="http://legato.example", client=("127.0.0.1", 9))
    headers = {"Origin": "https://legato.example", "X-Forwarded-Proto": "https"}
    csrf = browser.get("/api/v1/session", headers=headers).json()["csrf_token"]
    login = browser.post(
        "/api/v1/session",
        json={"username": "ada", "password": "ada-password-1"},
        headers={
            **headers,
            "X-Forwarded-For": "203.0.113.9",
            "X-CSRF-Token": csrf,
            "Cookie": f"legato_csrf={csrf}",  # a Secure cookie: the test client is on http
        },
    )
    assert login.status_code == 200, login.text
    assert "Secure" in login.headers["set-cookie"]


def test_up_serves_health_within_seconds(project: Path):
    import json
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from web_server import free_port

    port = free_port()
    code = f"from legato.cli.web import up; up.main(['--port', '{port}'], prog_name='legato up')"
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                ) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "legato up did not answer /api/v1/health"
                time.sleep(0.05)
        assert body["status"] == "ok"
        assert body["daemon"]["running"] is True  # `legato up` runs the daemon in-process
        token_file = project / ".legato" / "up-token"
        token = token_file.read_text().strip()
        assert token_file.stat().st_mode & 0o777 == 0o600 and len(token) >= 32
        runs = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/runs")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(runs, timeout=5)
        assert refused.value.code == 401
        refused.value.close()
        runs.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(runs, timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/?token={token}" in output and "local mode" in output
