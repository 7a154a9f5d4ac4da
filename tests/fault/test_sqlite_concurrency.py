"""Several processes writing to one SQLite store never surface "database is locked"."""

import subprocess
import sys
import textwrap

from legato.events.status import RunStatus
from legato.store.engine import Store
from legato.store.runs import list_runs

SCRIPT = textwrap.dedent("""
    import sys
    import legato as lg
    from legato.store.engine import Store

    @lg.task
    def root() -> list[int]:
        return list(range(60))

    @lg.task(map_over="root")
    def item(root: int) -> int:
        print("item", root)
        return root

    @lg.task
    def join(item: list[int]) -> int:
        return sum(item)

    store = Store(sys.argv[1])
    for _ in range(3):
        result = lg.materialize([root, item, join], store=store, executor="threads")
        assert result.output("join") == sum(range(60))
""")


def test_concurrent_writers_share_one_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    Store(url).dispose()  # create the schema once, as `legato` does on first use
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
    runs = list_runs(Store(url), limit=100)
    assert len(runs) == 12 and {r.status for r in runs} == {RunStatus.SUCCEEDED}
