"""The public surface is a deliberate list, and importing it stays light."""

import subprocess
import sys

import legato


def test_all_is_sorted_and_every_name_resolves():
    assert legato.__all__ == sorted(legato.__all__)
    for name in legato.__all__:
        assert getattr(legato, name) is not None


def test_import_legato_pulls_in_no_heavy_dependency():
    code = (
        "import sys, legato; heavy = [m for m in ('sqlalchemy', 'alembic', 'rich', 'click', "
        "'cloudpickle', 'croniter', 'psycopg') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_load_on_first_use():
    assert legato.materialize.__module__ == "legato.execution.api"
