"""A whole run recorded in PostgreSQL, on the process pool."""

import legato as lg
from legato.events.status import RunStatus
from legato.store.assets import latest_materializations
from legato.store.logs import read_logs
from legato.store.runs import get_run


def test_run_on_postgres_with_process_pool(pg_store, tmp_path):
    @lg.asset
    def numbers() -> list[int]:
        print("generating")
        return list(range(10))

    @lg.task(map_over="numbers", retries=lg.Retry(2, delay=0))
    def square(numbers: int) -> int:
        return numbers * numbers

    @lg.asset
    def total(square: list[int]) -> int:
        return sum(square)

    result = lg.materialize(
        [numbers, square, total], executor="process", store=pg_store, storage=tmp_path / "s"
    )
    assert result.output("total") == 285
    assert get_run(pg_store, result.run_id).status is RunStatus.SUCCEEDED
    assert {m.asset_key for m in latest_materializations(pg_store)} == {"numbers", "total"}
    assert [line.message for line in read_logs(pg_store, result.run_id)] == ["generating"]
