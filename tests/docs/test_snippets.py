"""Every python, bash and toml block of README.md and docs/*.md runs, so the docs stay true.

- python: written to a file in a temporary directory (or in a copy of the block's example project,
  which is then on ``sys.path``) and run with ``python``; a block that defines ``test_`` functions
  is run with pytest instead. With ``check``, the file is then loaded as the project's only module
  and ``legato check`` must pass.
- bash: run with ``bash -xeuo pipefail`` in a copy of the block's example project, on the default
  SQLite store. ``RUN`` stands for the latest run's id and an optional ``[STEP]`` is left out.
  ``legato up``, ``legato daemon`` and ``legato worker`` serve until stopped: each is started, must
  come up (``legato up`` must answer its health check, on a free port unless one is given), and is
  then stopped with SIGTERM.
- toml: the block is the example project's ``legato.toml``, and ``legato check`` must pass on it.
- ``serve``: ``legato up`` serves the project on a free port during the block (its URL replaces
  ``http://127.0.0.1:8642``) and ``LEGATO_TOKEN`` is an operator's API token.

Blocks marked as sketches or with a ``skip`` directive (see ``snippets.py``) are listed by
``test_blocks_that_are_not_run_say_why``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_briefly import free_port
from snippets import ROOT, Snippet, all_snippets

import cli_forks

SNIPPETS = all_snippets()
TIMEOUT = 600
SERVE = Path(__file__).with_name("serve_briefly.py")


def _runnable(snippet: Snippet) -> bool:
    return snippet.skip is None and snippet.sketch is None


@pytest.fixture
def workdir(tmp_path: Path, snippet: Snippet) -> Path:
    if snippet.project is None:
        work = tmp_path / "project"
        work.mkdir()
        return work
    source = ROOT / snippet.project
    assert source.is_dir(), f"{snippet.id}: no example project {snippet.project}"
    work = tmp_path / source.name
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".legato", "__pycache__"))
    return work


@pytest.fixture
def env(
    request: pytest.FixtureRequest, tmp_path: Path, workdir: Path, snippet: Snippet
) -> Iterator[dict[str, str]]:
    """The environment of a snippet: ``legato`` on PATH runs this interpreter's Legato (as a
    fork of a process that has its libraries imported: see cli_forks.py)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    environ["PATH"] = os.pathsep.join([str(bin_dir), environ.get("PATH", "")])
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(workdir), environ.get("PYTHONPATH", "")] if p
    )
    environ["SNIPPET_PYTHON"] = sys.executable
    environ["SNIPPET_SERVE"] = str(SERVE)
    if snippet.postgres:
        environ["LEGATO_DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    with cli_forks.legato_on_path(bin_dir):
        yield environ


@pytest.fixture
def served(snippet: Snippet, workdir: Path, env: dict[str, str]) -> Iterator[str | None]:
    """With ``serve``: the URL of ``legato up`` on the project; LEGATO_TOKEN set in ``env``."""
    if not snippet.serve:
        yield None
        return
    legato = [_legato(env)]
    _run([*legato, "users", "add", "ci", "--role", "operator"], workdir, env, snippet)
    made = _run([*legato, "users", "token", "ci", "--label", "docs"], workdir, env, snippet)
    env["LEGATO_TOKEN"] = made.stdout.split()[-1]
    url = f"http://127.0.0.1:{free_port()}"
    with open(workdir.parent / "up.log", "w") as log:
        server = subprocess.Popen(
            [*legato, "up", "--port", url.rsplit(":", 1)[1]],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            assert server.poll() is None, (workdir.parent / "up.log").read_text()
            assert time.monotonic() < deadline, "legato up did not answer within 90 s"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(60)


def _legato(env: dict[str, str]) -> str:
    """The snippet's ``legato`` command (see ``env``)."""
    found = shutil.which("legato", path=env["PATH"])
    assert found is not None, env["PATH"]
    return found


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _run(
    args: list[str], cwd: Path, env: dict[str, str], snippet: Snippet
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        _fail(snippet, f"did not finish within {TIMEOUT} s", exc.stdout, exc.stderr)
    if result.returncode != 0:
        _fail(snippet, f"exited with {result.returncode}", result.stdout, result.stderr)
    return result


def _fail(
    snippet: Snippet, what: str, stdout: str | bytes | None, stderr: str | bytes | None
) -> None:
    def text(output: str | bytes | None) -> str:
        return output.decode(errors="replace") if isinstance(output, bytes) else output or ""

    pytest.fail(
        f"{snippet.id} ({snippet.language}) {what}\n--- code\n{snippet.code}"
        f"--- stdout\n{text(stdout)}\n--- stderr (bash: each command after '+')\n{text(stderr)}",
        pytrace=False,
    )


_SERVERS = re.compile(r"^(\s*)legato (up|daemon|worker)\b", re.MULTILINE)


def shell_script(code: str) -> str:
    """The bash block as a script: placeholders filled in, servers started and stopped."""
    code = re.sub(r"\bRUN\b", '"$(legato runs --limit 1 --plain)"', code)
    code = code.replace(" [STEP]", "")
    return _SERVERS.sub(r'\1"$SNIPPET_PYTHON" "$SNIPPET_SERVE" \2', code)


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT + 60)
@pytest.mark.parametrize(
    "snippet", [s for s in SNIPPETS if _runnable(s)], ids=lambda s: f"{s.id}-{s.language}"
)
def test_snippet_runs(
    snippet: Snippet, workdir: Path, env: dict[str, str], served: str | None
) -> None:
    if snippet.language == "python":
        name = "test_snippet.py" if re.search(r"^def test_", snippet.code, re.M) else "snippet.py"
        path = workdir / name
        path.write_text(snippet.code)
        if name.startswith("test_"):
            args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
            args += ["--rootdir", str(workdir), "-c", os.devnull]
            # Plain pytest, as in a new project: this suite's plugins (browsers, schema fuzzing,
            # xdist) cost seconds of start-up and nothing a snippet uses.
            env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        else:
            args = [sys.executable, name]
        _run(args, workdir, env, snippet)
        if snippet.check:
            (workdir / "legato.toml").write_text(f'modules = ["{path.stem}"]\n')
            _run([_legato(env), "check"], workdir, env, snippet)
    elif snippet.language == "bash":
        script = workdir.parent / "snippet.sh"
        code = snippet.code.replace("http://127.0.0.1:8642", served) if served else snippet.code
        script.write_text(shell_script(code))
        _run(["bash", "-xeuo", "pipefail", str(script)], workdir, env, snippet)
    else:
        (workdir / "legato.toml").write_text(snippet.code)
        _run([_legato(env), "check"], workdir, env, snippet)


def test_blocks_that_are_not_run_say_why() -> None:
    skipped = [s for s in SNIPPETS if not _runnable(s)]
    listing = "\n".join(f"{s.id}: {s.skip or s.sketch}" for s in skipped)
    print(textwrap.indent(listing or "(none)", "  "))
    assert all((s.skip or s.sketch or "").strip() for s in skipped), listing
