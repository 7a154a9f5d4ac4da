"""``legato up``: the web server and the daemon in one process, bound safely (no unauthenticated
server beyond loopback, TLS checked before serving, a local-mode token for the first admin).
``legato users`` is in ``legato.cli.users``."""

from __future__ import annotations

import ipaddress
import os
import signal
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from legato.cli._console import console, err_console
from legato.cli._project import (
    dump_stacks_on_request,
    open_store,
    settings_of,
    start_fork_server,
)
from legato.cli.users import users as users  # re-exported: ``legato users`` lived here
from legato.errors import ConfigError
from legato.store.engine import Store


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, store: Store) -> bool:
    """Whether the implicit local admin may apply; raise ConfigError if binding ``host`` would
    expose a server without authentication (S-02)."""
    from legato.web.accounts import count_active_users

    if _is_loopback(host):
        return True
    if count_active_users(store) == 0:
        raise ConfigError(
            f"refusing to listen on {host} without authentication: the store has no users",
            obj=host,
            hint="create an admin first with 'legato users add NAME --role admin', "
            "or bind 127.0.0.1 (the default)",
        )
    return False


class _DaemonThread:
    """The automation daemon in a thread of ``legato up``; stopped when the server stops."""

    def __init__(self, ctx: click.Context) -> None:
        import threading

        from legato.cli.daemon import build_daemon

        self.daemon = build_daemon(ctx, max_concurrent_runs=None, lease=30.0)
        self.daemon.start()  # refuses a second daemon on a SQLite store, before serving anything
        for error in self.daemon.refresh_definitions().errors:
            err_console.print(f"[yellow]{error}[/]")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.daemon.run_forever, args=(self._stop,), name="legato-daemon", daemon=True
        )
        self._thread.start()

    def status(self) -> dict[str, Any]:
        alive = self._thread.is_alive()
        found = self.daemon.status()
        return {**found, "running": alive, "state": found["state"] if alive else "stopped"}

    def stop(self) -> None:
        """Drain and release as ``legato daemon`` does on SIGTERM: runs still going after the
        drain are stopped and handed on, and no run worker outlives this process."""
        self._stop.set()
        self.daemon.interrupt()
        self._thread.join(self.daemon.drain + 60.0)


def _ignore(signum: int, frame: Any) -> None:
    """Uvicorn re-raises the signal that stopped it once it has shut down; with the default
    handler that would end the process before the daemon has stopped its run workers."""


TOKEN_FILE = "up-token"  # noqa: S105 - a file name, under the project's .legato/ directory
TOKEN_ENV = "LEGATO_UP_TOKEN"  # noqa: S105 - the variable's name


def local_token() -> str:
    """The local-mode token: ``$LEGATO_UP_TOKEN`` if set (scripts and tests that start ``legato
    up`` choose it), else a new random one."""
    from legato.web.passwords import new_secret

    given = os.environ.get(TOKEN_ENV, "")
    if not given:
        return new_secret()
    if len(given) < 16 or len(given) > 200 or not given.isascii() or not given.isprintable():
        raise ConfigError(
            f"{TOKEN_ENV} must be 16 to 200 printable ASCII characters",
            obj=TOKEN_ENV,
            hint=f"unset it for a random token, or set e.g. {TOKEN_ENV}=$(openssl rand -hex 16)",
        )
    return given


def write_token(state_dir: Path, token: str) -> Path:
    """Write ``token`` to ``<state_dir>/up-token`` readable by its owner only (replacing an older
    one at once, so a reader never sees half a token)."""
    from legato._internal.private import make_private_dirs, open_private

    make_private_dirs(state_dir)
    path = state_dir / TOKEN_FILE
    staged = state_dir / f".{TOKEN_FILE}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    with os.fdopen(open_private(staged), "w") as out:
        out.write(token + "\n")
    staged.replace(path)
    return path


def check_tls(certfile: Path | None, keyfile: Path | None) -> list[str]:
    """Load the certificate and key as the server will, so that a wrong file is a clear error
    before anything is served; return warnings about them (a key others may read)."""
    import ssl

    if certfile is None:
        if keyfile is not None:
            raise click.UsageError("--keyfile needs --certfile (the certificate it belongs to)")
        return []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot use {certfile}{f' with {keyfile}' if keyfile else ''} for TLS: {exc}",
            obj=str(certfile),
            hint="give a PEM certificate (chain) with --certfile and its private key with "
            "--keyfile (or both in the --certfile file)",
        ) from None
    key = keyfile or certfile
    if key.stat().st_mode & 0o077:
        return [
            f"the private key in {key} may be read by other users of this machine (chmod 600 {key})"
        ]
    return []


def plain_http_warning(host: str, store: Store, forwarded_allow_ips: str | None) -> str | None:
    """What to say when users log in over plain HTTP from other machines; None when the server
    is on loopback (or serves nobody yet)."""
    from legato.web.accounts import count_active_users

    if _is_loopback(host) or count_active_users(store) == 0:
        return None
    if forwarded_allow_ips is not None:
        return (
            f"serving plain HTTP on {host}: the hop from the proxy ({forwarded_allow_ips}) to "
            "this server carries passwords, session cookies and API tokens in clear; keep it on "
            "a private network, or give --certfile and --keyfile"
        )
    return (
        f"serving plain HTTP on {host}: passwords, session cookies and API tokens cross the "
        "network in clear, for anyone on the path to read; give --certfile and --keyfile, or "
        "put a TLS proxy in front (see docs/security.md)"
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8642, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve https with this PEM certificate (or chain); cookies are then always Secure.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The certificate's private key (PEM), unless --certfile holds it too.",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="Mark cookies Secure (default: with --certfile, or when the request came over https).",
)
@click.option(
    "--daemon/--no-daemon",
    default=True,
    show_default=True,
    help="Run the automation daemon in this process too.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="ADDRESSES",
    default=None,
    help="Behind a reverse proxy: the proxy's addresses (comma-separated), whose "
    "X-Forwarded-Proto and X-Forwarded-For are trusted for the scheme and the client's address.",
)
@click.pass_context
def up(
    ctx: click.Context,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    secure_cookies: bool | None,
    daemon: bool,
    forwarded_allow_ips: str | None,
) -> None:
    """Serve the UI and REST API (http://127.0.0.1:8642 by default) over the project's store,
    with the automation daemon (schedules, sensors, run queue) in the same process.

    On a loopback address and until a user exists, local mode: whoever has this start's token
    is admin. The URL printed carries it (open it once: the browser keeps it in a cookie), and
    it is written to .legato/up-token for scripts (send 'Authorization: Bearer <token>').

    With --certfile (and --keyfile), https: passwords, cookies and tokens are encrypted on the
    way. Serving logins over plain HTTP on an address other than loopback is warned about."""
    import uvicorn

    from legato.web.accounts import count_active_users
    from legato.web.app import create_app
    from legato.web.config import AuthConfig

    dump_stacks_on_request(ctx)
    if daemon:
        from legato.cli.daemon import RUN_WORKER_MODULES

        start_fork_server(ctx, RUN_WORKER_MODULES)
    tls = certfile is not None
    if tls and secure_cookies is False:
        raise click.UsageError(
            "--no-secure-cookies contradicts --certfile: https cookies are Secure"
        )
    for problem in check_tls(certfile, keyfile):
        err_console.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)
    store = open_store(ctx)
    local_admin = check_bind(host, store)
    plain = None if tls else plain_http_warning(host, store, forwarded_allow_ips)
    if plain is not None:
        err_console.print(f"[bold red]WARNING:[/] [bold]{escape(plain)}[/]", soft_wrap=True)
    token = local_token()
    # The file stays after the server stops: the token then opens nothing, and the next start
    # replaces it.
    token_path = write_token(settings_of(ctx).state_dir, token) if local_admin else None
    background = _DaemonThread(ctx) if daemon else None
    auth = AuthConfig(
        local_admin=local_admin,
        local_token=token,
        secure_cookies=True if tls else secure_cookies,
        token_lifetime=settings_of(ctx).api_token_expiry,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    app = create_app(
        store,
        auth=auth,
        daemon_status=background.status if background is not None else None,
        location=settings_of(ctx).name,
    )
    shown = f"[{host}]" if ":" in host else host
    url = f"{'https' if tls else 'http'}://{shown}:{port}/"
    if token_path is not None and count_active_users(store) == 0:
        console.print(
            f"Legato is serving {escape(url)}?token={token} (Ctrl-C to stop)", soft_wrap=True
        )
        console.print(
            "[dim]local mode: until a user exists, whoever has this token is admin; scripts find "
            f"it in {escape(str(token_path))}; add users with 'legato users add'[/]",
            soft_wrap=True,
        )
    else:
        console.print(f"Legato is serving {escape(url)} (Ctrl-C to stop)")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore)  # uvicorn handles them while it serves
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            # The app believes X-Forwarded-* from the proxies named by --forwarded-allow-ips only
            # (create_app); trusted from anyone, they would let a client choose the address login
            # throttling counts and the scheme the CSRF check compares Origin with.
            proxy_headers=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            timeout_graceful_shutdown=5,  # open log streams would otherwise hold Ctrl-C up
        )
    finally:
        if background is not None:
            background.stop()
