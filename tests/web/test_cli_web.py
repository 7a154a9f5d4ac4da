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


def test_users_token_expires_is_listed_and_revoked_from_the_cli(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    import time

    from legato.web import tokens

    accounts.add_user(_store(project), "otto", "operator", "otto-password-1")
    made = _invoke(users, ["token", "otto", "--label", "deploys", "--expires-in", "30d"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    token_id = secret.split("_")[1]
    assert f"token {token_id} for 'otto', expires" in made.stderr
    (listed,) = tokens.list_tokens(_store(project), accounts.get_user(_store(project), "otto"))
    assert abs(listed.expires_at - (time.time() + 30 * 86400)) < 60
    shown = _invoke(users, ["tokens", "otto"]).output
    assert token_id in shown and "active" in shown and "never" in shown and "deploys" in shown
    assert secret not in shown
    revoked = _invoke(users, ["revoke-token", token_id])
    assert revoked.exit_code == 0 and f"token {token_id} of 'otto' is revoked" in revoked.output
    assert "revoked" in _invoke(users, ["tokens", "otto"]).output
    again = CliRunner().invoke(root, ["users", "revoke-token", token_id])
    assert again.exit_code == 2 and "no active API token" in again.output
    bad = CliRunner().invoke(root, ["users", "token", "otto", "--expires-in", "forever"])
    assert bad.exit_code == 2 and "--expires-in" in bad.output


def test_the_default_token_lifetime_is_the_api_token_expiry_setting(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    import time

    import uvicorn

    from legato.web import tokens

    (project / "legato.toml").write_text('modules = []\napi_token_expiry = "7d"\n')
    accounts.add_user(_store(project), "otto", "operator", "otto-password-1")
    assert _invoke(users, ["token", "otto"]).exit_code == 0
    (made,) = tokens.list_tokens(_store(project), accounts.get_user(_store(project), "otto"))
    assert abs(made.expires_at - (time.time() + 7 * 86400)) < 60
    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    assert _invoke(up, ["--no-daemon"]).exit_code == 0
    assert served["app"].state.legato.auth.token_lifetime == 7 * 86400
    monkeypatch.setenv("LEGATO_API_TOKEN_EXPIRY", "soon")
    wrong = CliRunner().invoke(root, ["users", "token", "otto"])
    assert wrong.exit_code == 2 and "LEGATO_API_TOKEN_EXPIRY" in wrong.output


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


def test_up_serves_health_with_its_daemon_running(project: Path):
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
        deadline = time.monotonic() + 120  # a bound for a stuck server, not a speed claim
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


# -- TLS ---------------------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, made with ``cryptography`` when it
    is installed, else with the ``openssl`` command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        from cryptography import x509
    except ImportError:
        import shutil
        import subprocess

        if shutil.which("openssl") is None:
            pytest.skip("neither the cryptography package nor the openssl command is available")
        subprocess.run(
            [
                *(
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                ),
                *("-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key)),
                *("-out", str(cert), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        key.chmod(0o600)
        return cert, key
    import datetime
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    return cert, key


def test_up_serves_https_with_the_certificate_and_its_cookies_are_secure(project: Path):
    import json
    import ssl
    import subprocess
    import sys
    import time
    import urllib.request

    from web_server import free_port

    cert, key = _self_signed(project)
    accounts.add_user(_store(project), "ada", "admin", "ada-password-1")
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "legato", "up", "--no-daemon", "--port", str(port)),
            *("--certfile", str(cert), "--keyfile", str(key)),
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    trusting = ssl.create_default_context(cafile=str(cert))  # verifies the chain and the name
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"{base}/api/v1/health", timeout=2, context=trusting
                ) as response:
                    assert json.loads(response.read())["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "legato up did not answer over https"
                time.sleep(0.1)
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=5)  # the system's CAs only
        with urllib.request.urlopen(
            f"{base}/api/v1/session", timeout=5, context=trusting
        ) as response:
            csrf = json.loads(response.read())["csrf_token"]
            assert "Secure" in response.headers["set-cookie"]
        login = urllib.request.Request(
            f"{base}/api/v1/session",
            data=json.dumps({"username": "ada", "password": "ada-password-1"}).encode(),
            headers={
                "Content-Type": "application/json",
                "Origin": base,
                "X-CSRF-Token": csrf,
                "Cookie": f"legato_csrf={csrf}",
            },
            method="POST",
        )
        with urllib.request.urlopen(login, timeout=10, context=trusting) as response:
            assert response.status == 200
            session = next(
                c for c in response.headers.get_all("set-cookie") if c.startswith("legato_session=")
            )
        attributes = {part.strip().lower() for part in session.split(";")[1:]}
        assert {"secure", "httponly", "samesite=strict"} <= attributes
        runs = urllib.request.Request(
            f"{base}/api/v1/runs", headers={"Cookie": session.split(";")[0]}
        )
        with urllib.request.urlopen(runs, timeout=5, context=trusting) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"Legato is serving {base}/" in output
    assert "plain HTTP" not in output


def _served(monkeypatch: pytest.MonkeyPatch) -> dict:
    import uvicorn

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    return served


def test_serving_users_over_plain_http_off_loopback_is_warned_loudly(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    served = _served(monkeypatch)
    accounts.add_user(_store(project), "ada", "admin", "ada-password-1")
    public = _invoke(up, ["--no-daemon", "--host", "0.0.0.0"])
    assert public.exit_code == 0, public.output
    assert "WARNING" in public.stderr and "plain HTTP on 0.0.0.0" in public.stderr
    assert "in clear" in public.stderr and "--certfile" in public.stderr
    assert served["ssl_certfile"] is None and "http://0.0.0.0:8642/" in public.stdout
    proxied = _invoke(up, ["--no-daemon", "--host", "0.0.0.0", "--forwarded-allow-ips", "10.0.0.2"])
    assert "the hop from the proxy (10.0.0.2)" in proxied.stderr
    local = _invoke(up, ["--no-daemon"])
    assert local.exit_code == 0 and "WARNING" not in local.stderr


def test_with_a_certificate_there_is_no_warning_and_cookies_are_always_secure(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    served = _served(monkeypatch)
    cert, key = _self_signed(project)
    accounts.add_user(_store(project), "ada", "admin", "ada-password-1")
    args = ["--no-daemon", "--host", "0.0.0.0", "--certfile", str(cert), "--keyfile", str(key)]
    result = _invoke(up, args)
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr and "https://0.0.0.0:8642/" in result.stdout
    assert served["ssl_certfile"] == cert and served["ssl_keyfile"] == key
    assert served["app"].state.legato.auth.secure_cookies is True
    contradiction = CliRunner().invoke(root, ["up", *args, "--no-secure-cookies"])
    assert contradiction.exit_code == 2 and "contradicts --certfile" in contradiction.output


def test_unusable_certificate_files_are_refused_before_serving(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    served = _served(monkeypatch)
    cert, key = _self_signed(project)
    garbage = project / "garbage.pem"
    garbage.write_text("not a certificate\n")
    wrong = CliRunner().invoke(root, ["up", "--certfile", str(garbage), "--keyfile", str(key)])
    assert wrong.exit_code == 2 and "cannot use" in wrong.output and "for TLS" in wrong.output
    lonely = CliRunner().invoke(root, ["up", "--keyfile", str(key)])
    assert lonely.exit_code == 2 and "--keyfile needs --certfile" in lonely.output
    key.chmod(0o644)
    readable = _invoke(up, ["--no-daemon", "--certfile", str(cert), "--keyfile", str(key)])
    assert readable.exit_code == 0 and f"chmod 600 {key}" in readable.stderr
    assert served  # it still serves: the warning is about the file, not the server
