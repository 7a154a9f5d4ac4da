"""One concept per module: no module of the package passes 400 lines."""

from pathlib import Path

import legato

LIMIT = 400


def test_no_module_passes_the_limit():
    root = Path(legato.__file__).parent
    too_long = {
        str(p.relative_to(root)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > LIMIT
    }
    assert too_long == {}, f"split these modules (lines): {too_long}"
