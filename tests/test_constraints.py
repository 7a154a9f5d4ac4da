"""constraints.txt pins what CI tests: every dependency pyproject.toml declares (runtime and every
extra, development tools included) is pinned there, to a version its range in pyproject.toml
allows, and the set-up installs with it. The README states each runtime dependency's supported
range and the version tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
FIX = "regenerate it from .venv: .venv/bin/python scripts/freeze_constraints.py"


def _declared() -> list[tuple[str, Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [("dependencies", Requirement(text)) for text in project["dependencies"]]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"[{extra}]", Requirement(text)) for text in texts]
    return found


def _pins() -> dict[str, Version]:
    """Each line is ``name==version``, with a marker for a dependency of another platform."""
    pins: dict[str, Version] = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        pin = Requirement(line)
        specifiers = list(pin.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{number}: {line!r}"
        name = canonicalize_name(pin.name)
        assert name not in pins, f"constraints.txt:{number}: {pin.name} twice"
        pins[name] = Version(specifiers[0].version)
    return pins


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _pins()
    problems = []
    for where, requirement in _declared():
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} ({where}) is not pinned in constraints.txt")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(
                f"{requirement.name}=={pinned} in constraints.txt is outside {requirement} "
                f"({where} in pyproject.toml)"
            )
    assert problems == [], "; ".join(problems) + f"; {FIX}"


def test_legato_itself_is_not_pinned_and_the_set_up_installs_with_the_constraints():
    assert "legato" not in _pins()
    setup = (ROOT / "scripts" / "setup").read_text()
    assert '-c constraints.txt -e ".[dev]"' in setup


def _readme_table() -> dict[str, tuple[str, str]]:
    """The README's table of supported ranges: name (extra dropped) → (supported, tested)."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| dependency | supported | tested |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        name, supported, tested = (cell.strip() for cell in line.strip("|").split("|"))
        rows[canonicalize_name(re.sub(r" \(.*\)$", "", name))] = (supported, tested)
    return rows


def test_the_readme_states_each_supported_range_and_the_version_tested():
    rows, pins, problems = _readme_table(), _pins(), []
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python = project["requires-python"].removeprefix(">=")
    if rows.get("python", ("",))[0] != f"≥ {python}":
        problems.append(f"Python: the README says {rows.get('python')}, pyproject ≥ {python}")
    for where, requirement in _declared():
        if where == "[dev]" or (requirement.marker and not requirement.marker.evaluate()):
            continue
        name = canonicalize_name(requirement.name)
        [specifier] = requirement.specifier
        expected = (f"≥ {specifier.version}", str(pins[name]))
        if rows.get(name) != expected:
            problems.append(
                f"{requirement.name} ({where}): README {rows.get(name)}, not {expected}"
            )
    assert problems == [], "; ".join(problems) + "; update the table in README.md"
