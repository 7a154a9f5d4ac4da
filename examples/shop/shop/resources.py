"""The shop's warehouse: a directory of CSV exports standing in for a database."""

from __future__ import annotations

import csv
from pathlib import Path

import legato as lg


class Warehouse(lg.Resource):
    """Reads and writes CSV tables under ``path``."""

    path: str = "warehouse"

    def setup(self) -> None:
        Path(self.path).mkdir(parents=True, exist_ok=True)

    def write(self, table: str, rows: list[dict]) -> Path:
        target = Path(self.path) / f"{table}.csv"
        with open(target, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=sorted(rows[0]) if rows else ["empty"])
            writer.writeheader()
            writer.writerows(rows)
        return target
