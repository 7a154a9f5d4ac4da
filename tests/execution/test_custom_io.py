from collections.abc import Mapping
from typing import Any

import legato as lg
from legato.definitions.io import IOContext


class DictIO:
    """A custom IO manager: the protocol is three methods."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        self.saved[f"{context.asset_key}/{context.partition_key}"] = value
        return {"where": "dict", "items": len(value)}

    def load(self, context: IOContext) -> Any:
        return self.saved[f"{context.asset_key}/{context.partition_key}"]

    def exists(self, context: IOContext) -> bool:
        return f"{context.asset_key}/{context.partition_key}" in self.saved


def test_assets_use_the_io_manager_they_name_and_record_its_metadata():
    custom = DictIO()

    @lg.asset(io_manager="dict_io")
    def letters() -> list[str]:
        return ["a", "b"]

    @lg.asset
    def upper(letters: list[str]) -> list[str]:
        return [x.upper() for x in letters]

    result = lg.materialize([letters, upper], io_managers={"dict_io": custom})
    assert custom.saved == {"letters/": ["a", "b"]}
    assert result.output("upper") == ["A", "B"]
    [event] = [e for e in result.events if e["type"] == "materialized" and e["step"] == "letters"]
    # what the IO manager reported, with what every materialization records (rows)
    assert event["data"]["metadata"] == {"where": "dict", "items": 2, "rows": 2}
