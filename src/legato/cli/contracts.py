"""``legato check --snapshot-out`` and ``--against``: the project's contracts as a JSON file, and
the contract changes since another version of it (a git ref or such a file), for pull requests;
and the comparison with the other projects that share the project's store.

The other version is loaded in a child process (``git archive`` of the ref into a temporary
directory, then ``legato check --snapshot-out`` there), so two versions of the user's code are
never imported into one interpreter.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from legato.cli._console import console
from legato.errors import LegatoError, StoreError
from legato.graph.contract_diff import ContractChange
from legato.loader.config import Settings
from legato.store.engine import Store
from legato.store.shared_contracts import SharedCheck, check_shared_contracts

GIT_TIMEOUT = 120  # seconds for git, and for loading the other version's project


def write_snapshot(path: Path, data: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise LegatoError(
            f"--snapshot-out {path}: cannot write it: {exc.strerror}",
            obj=str(path),
            hint="give a path in a directory that exists and is writable",
        ) from None


def baseline(against: str, root: Path) -> tuple[dict[str, Any], str]:
    """The contracts snapshot of the version named by ``against`` (a snapshot file, or a git
    ref of the repository that holds ``root``), and how to name it in messages."""
    path = Path(against)
    if path.is_file():
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LegatoError(
                f"--against {against}: cannot read it as JSON: {exc}",
                obj=against,
                hint="pass a file written by `legato check --snapshot-out`, or a git ref",
            ) from None
        return data, str(path)
    return _snapshot_at(against, root), against


def _git(args: list[str], cwd: Path, what: str, hint: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise LegatoError(f"{what}: git is not installed", hint=hint)
    try:
        done = subprocess.run(
            [git, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LegatoError(f"{what}: git failed: {exc}", hint=hint) from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise LegatoError(f"{what}: {detail[-1] if detail else 'git failed'}", hint=hint)
    return done


def _snapshot_at(ref: str, root: Path) -> dict[str, Any]:
    what = f"--against {ref}"
    fix = "pass a git ref (a branch, tag or commit) or a file written by --snapshot-out"
    if ref.startswith("-"):
        raise LegatoError(f"{what}: not a file, nor a git ref", obj=ref, hint=fix)
    top = _git(
        ["rev-parse", "--show-toplevel"], root, what, f"{root} is in no git repository; {fix}"
    )
    repo = Path(top.stdout.decode().strip())
    _git(
        ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo, f"{what}: no such ref", fix
    )
    tree = _git(["archive", "--format=tar", ref], repo, what, fix).stdout
    inside = root.resolve().relative_to(repo.resolve())
    with tempfile.TemporaryDirectory(prefix="legato-against-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(tree)) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(tmp, filter="data")
            else:  # Python < 3.11.4
                archive.extractall(tmp)  # noqa: S202 - our own repository's tree
        project = Path(tmp) / inside
        if not project.is_dir():
            raise LegatoError(
                f"{what}: the project directory {inside} does not exist at {ref}",
                obj=ref,
                hint="compare with a ref that has the project, or with a snapshot file",
            )
        out = Path(tmp) / "contracts.json"
        # Only the other version's contracts are wanted: a store that does not exist is not read.
        no_store = {**os.environ, "LEGATO_DATABASE_URL": f"sqlite:///{tmp}/no-store.db"}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "legato", "check", "--snapshot-out", str(out)],
                cwd=project,
                env=no_store,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LegatoError(f"{what}: loading the project at {ref} took too long") from None
        if done.returncode != 0 or not out.is_file():
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise LegatoError(
                f"{what}: the project at {ref} does not load: " + " / ".join(lines[-4:]),
                obj=ref,
                hint="compare with a ref whose project loads, or with a snapshot file",
            )
        data: dict[str, Any] = json.loads(out.read_text())
        return data


def print_changes(changes: list[ContractChange], against: str) -> None:
    breaking = sum(c.breaking for c in changes)
    if not changes:
        console.print(f"contracts: no change since {escape(against)}")
        return
    console.print(
        f"contracts since {escape(against)}: [bold red]{breaking} breaking[/], "
        f"{len(changes) - breaking} compatible change(s)"
    )
    for change in changes:
        label = "[bold red]breaking  [/]" if change.breaking else "[green]compatible[/]"
        where = f" [dim]({escape(change.source)})[/]" if change.source else ""
        console.print(f"  {label} {escape(change.message)}{where}")


def shared_store_check(settings: Settings, contracts: dict[str, Any]) -> SharedCheck | None:
    """The project's contracts compared with those the other projects sharing its store
    recorded; None when there is no store to read (a SQLite file not made yet, a server that
    does not answer): checking a project never needs one."""
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return None
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None  # opening it would create it
    try:
        store = Store(settings.database_url, create=False)
    except (StoreError, SQLAlchemyError, ImportError):
        return None
    try:
        if store.revision() is None:
            return None
        return check_shared_contracts(store, settings.name, contracts)
    except (StoreError, SQLAlchemyError):
        return None
    finally:
        store.dispose()
