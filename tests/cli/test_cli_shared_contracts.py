"""Two projects share one store: ``legato check`` in either compares its contracts with those the
other recorded, so a team that retypes a column another team's project reads finds out before
anything runs."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from legato.cli.main import cli

MODULES = ("sales_assets", "marketing_assets")

SALES = """
    import pandas as pd

    import legato as lg

    @lg.asset(contract=lg.TableContract({{"id": "int64", "amount": "{dtype}"}}))
    def orders() -> pd.DataFrame:
        return pd.DataFrame({{"id": [1, 2], "amount": {values}}})
"""

MARKETING = """
    from typing import Annotated

    import pandas as pd

    import legato as lg

    orders = lg.external_asset("orders", project="sales")

    @lg.asset
    def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float:
        return float(orders["amount"].sum())
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shared.db"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def forget_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """The projects' modules are imported in this process: each command imports them afresh,
    and none is left behind."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    def forget() -> None:
        for name in MODULES:
            sys.modules.pop(name, None)

    yield forget
    forget()


def _project(root: Path, name: str, module: str, text: str, storage: Path) -> Path:
    root.mkdir(exist_ok=True)
    (root / "legato.toml").write_text(
        f'name = "{name}"\nmodules = ["{module}"]\nexecutor = "inprocess"\nstorage = "{storage}"\n'
    )
    (root / f"{module}.py").write_text(textwrap.dedent(text))
    return root


def _sales(root: Path, storage: Path, *, retyped: bool) -> Path:
    text = SALES.format(
        dtype="string" if retyped else "float64",
        values='["9.5", "3.0"]' if retyped else "[9.5, 3.0]",
    )
    return _project(root, "sales", "sales_assets", text, storage)


def _line(path: Path, text: str) -> str:
    """``path:line`` of the first line that starts with ``text``."""
    lines = path.read_text().splitlines()
    return f"{path}:{next(n for n, line in enumerate(lines, 1) if line.startswith(text))}"


def test_a_column_retyped_in_one_project_fails_check_in_both(
    tmp_path, database_url, forget_modules
):
    storage = tmp_path / "storage"  # shared too: revenue reads the orders sales stored
    sales = _sales(tmp_path / "sales", storage, retyped=False)
    marketing = _project(
        tmp_path / "marketing", "marketing", "marketing_assets", MARKETING, storage
    )

    def legato(project: Path, *args: str, url: str = database_url) -> Result:
        forget_modules()
        return CliRunner().invoke(
            cli, ["--project", str(project), *args], env={"LEGATO_DATABASE_URL": url}
        )

    unreachable = legato(marketing, "check", url="postgresql://postgres@127.0.0.1:1/none")
    assert unreachable.exit_code == 0, unreachable.output
    alone = legato(marketing, "check")  # nothing recorded yet
    assert alone.exit_code == 0, alone.output
    # unwrapped: the console wraps the summary at the terminal's width
    assert "ok: 2 asset(s) (1 external), 0 task(s)" in " ".join(alone.output.split())
    if database_url.startswith("sqlite"):
        assert not (tmp_path / "shared.db").exists()  # checking never creates a store

    assert legato(sales, "run", "orders").exit_code == 0
    agreed = legato(marketing, "check")
    assert agreed.exit_code == 0, agreed.output
    assert "ok: contracts compared with project(s) 'sales' in the store" in agreed.output
    ran = legato(marketing, "run", "revenue")
    assert ran.exit_code == 0, ran.output  # read what the other project stored

    _sales(sales, storage, retyped=True)
    broken = legato(sales, "check")
    assert broken.exit_code == 1
    said = " ".join(broken.output.split())
    revenue_at = _line(marketing / "marketing_assets.py", "@lg.asset")
    orders_at = _line(sales / "sales_assets.py", "@lg.asset")
    assert (
        f"error: asset 'revenue' of project 'marketing' ({revenue_at}) reads 'orders' from asset "
        f"'orders' of project 'sales' ({orders_at}): column 'amount' is string in the contract, "
        "float64 is needed" in said
    )
    assert (
        "fix: declare 'amount': 'float64' in orders's contract (and return it so), or change "
        "what revenue Needs" in said
    )
    assert "1 error(s)" in said

    still = legato(marketing, "check")  # sales has not recorded the change yet
    assert still.exit_code == 0, still.output
    assert legato(sales, "run", "orders").exit_code == 0
    told = legato(marketing, "check")
    assert told.exit_code == 1
    said = " ".join(told.output.split())
    assert f"of project 'sales' ({orders_at}): column 'amount' is string" in said
    assert f"at {revenue_at}" not in said  # the message names it already
