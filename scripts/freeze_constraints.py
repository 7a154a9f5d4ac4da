"""Write constraints.txt: the exact versions in this environment of Legato's runtime and
development dependencies and of everything they depend on (pip freeze, filtered to that closure).

    .venv/bin/python scripts/freeze_constraints.py

scripts/setup installs with ``-c constraints.txt``, so CI tests exactly these versions; rerun
this after upgrading a package in .venv on purpose, and commit the result.
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# The exact versions CI tests, for Legato's runtime and development dependencies and everything
# they pull in. scripts/setup installs with `uv pip install -c constraints.txt -e ".[dev]"`.
# pyproject.toml keeps lower bounds only: these pins are what is tested, not what is required.
# Regenerate from .venv with `.venv/bin/python scripts/freeze_constraints.py`.
"""


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**default_environment(), "extra": extra})
        for extra in extras or {""}
    )


def closure(roots: list[Requirement]) -> dict[str, str]:
    """Installed distribution name -> version for ``roots`` and their dependencies."""
    found: dict[str, str] = {}
    queue = [(r, set(r.extras)) for r in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        requirement, extras = queue.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # a dependency for another platform (its marker is false here)
        found[dist.metadata["Name"]] = dist.version
        for text in dist.requires or []:
            child = Requirement(text)
            if _applies(child, extras):
                queue.append((child, set(child.extras)))
    return found


def _kept_for_other_platforms(roots: list[Requirement]) -> dict[str, str]:
    """Lines of the current constraints.txt for declared dependencies of other platforms (a
    marker false here, such as tzdata on Windows): this environment cannot pin them, so their
    pin, written by hand with the same marker, is kept."""
    path = ROOT / "constraints.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    elsewhere = {canonicalize_name(r.name) for r in roots if r.marker and not r.marker.evaluate()}
    kept = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name = canonicalize_name(Requirement(line).name)
            if name in elsewhere:
                kept[name] = line.strip()
    return kept


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        texts += group
    roots = [Requirement(t) for t in texts]
    kept = _kept_for_other_platforms(roots)
    here = [r for r in roots if r.marker is None or r.marker.evaluate()]
    pins = {canonicalize_name(n): f"{n}=={v}" for n, v in closure(here).items()}
    missing = [r.name for r in here if canonicalize_name(r.name) not in pins]
    if missing:
        print(f"not installed in this environment: {', '.join(missing)}", file=sys.stderr)
        return 1
    unpinned = [
        r.name for r in roots if canonicalize_name(r.name) not in pins and r.name not in kept
    ]
    if unpinned:
        print(
            f"pin by hand, with the marker pyproject.toml gives them: {', '.join(unpinned)} "
            "(e.g. tzdata==2026.6; sys_platform == 'win32')",
            file=sys.stderr,
        )
    lines = [line for _, line in sorted({**kept, **pins}.items())]
    (ROOT / "constraints.txt").write_text(HEADER + "\n".join(lines) + "\n")
    print(f"constraints.txt: {len(lines)} pinned packages")
    return 1 if unpinned else 0


if __name__ == "__main__":
    sys.exit(main())
