"""One concept per module: no module of the package passes the hard cap of 600 lines."""

from pathlib import Path

import legato

HARD_CAP = 600


def test_no_module_passes_the_hard_cap():
    root = Path(legato.__file__).parent
    too_long = {
        str(p.relative_to(root)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > HARD_CAP
    }
    assert too_long == {}, f"split these modules (lines): {too_long}"
