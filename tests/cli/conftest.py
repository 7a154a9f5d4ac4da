"""Helpers to run the real ``legato`` command in a project directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from legato_process import run_legato


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("LEGATO_DATABASE_URL", None)
        env.update(extra)
        return env

    def legato(
        self, *args: str, check: bool = False, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return run_legato(self.root, *args, env=self.env(**env), check=check)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "legato", *args],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
