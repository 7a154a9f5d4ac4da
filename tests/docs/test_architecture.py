"""docs/architecture.md stays a true map: its layers are the import contract's, in its order, and
every module it names exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()
PACKAGE = ROOT / "src" / "legato"


def test_the_drawn_layers_are_the_layers_contract_in_its_order():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    layers = [
        {n.strip().removeprefix("legato.") for n in layer.split("|")}
        for layer in contract["layers"]
    ]
    drawing = DOC.split("```text\n", 1)[1].split("```", 1)[0]
    drawn = [
        {n.strip() for n in line.split("  ")[0].split("·")}
        for line in drawing.splitlines()
        if line.strip()
    ]
    assert drawn == layers


def test_every_module_the_map_names_exists():
    named = 0
    for line in DOC.splitlines():
        paths = re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:\.py|/))`", line)
        folders = [p for p in paths if p.endswith("/")]
        for path in paths:
            # a bare file name stands in a folder the same line names
            places = [PACKAGE / path] + [PACKAGE / folder / path for folder in folders]
            assert any(p.exists() for p in places), f"docs/architecture.md names {path}"
            named += 1
    assert named > 40


def test_the_run_path_from_definition_to_the_ui_is_in_the_table():
    steps = re.findall(r"^\| ([a-z ]+) \|", DOC, flags=re.MULTILINE)
    for step in ("define", "build the graph", "plan", "execute", "record", "show"):
        assert step in steps
