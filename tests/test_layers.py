"""The import contracts cover the whole package: a package left out of the layers could import
anything, and anything could import it (the integrations once were, and the daemon imported them)."""

import re
import tomllib
from pathlib import Path

import legato

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_and_module_of_legato_has_a_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    placed = {name.strip() for layer in contract["layers"] for name in re.split(r"[|:]", layer)}
    package = Path(legato.__file__).parent
    found = {
        f"legato.{path.stem}"
        for path in package.iterdir()
        if (path.is_dir() and (path / "__init__.py").is_file())
        or (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
    }
    assert found - placed == set(), "give these a layer in [tool.importlinter] of pyproject.toml"
