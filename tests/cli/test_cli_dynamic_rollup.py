"""A roll-up over a dynamic dimension waits, for each day, only for the tenants there were by the
end of that day: a tenant onboarded later does not hold the earlier days back (they used to wait
for it forever), yet its value for such a day is read when it has one, so nothing is dropped.
A tenant onboarded with its history (``--since``) is waited for on the days it covers."""

import json

PROJECT = """
    import json
    from pathlib import Path
    import legato as lg

    tenants = lg.DynamicPartitions("tenant")
    days = lg.DailyPartitions(start="2025-01-01")

    @lg.asset(partitions=tenants * days)
    def usage(context) -> int:
        return 1

    @lg.asset(partitions=days, deps={"usage": lg.Dimension(on="date")})
    def daily_total(context, usage: dict[str, int]) -> int:
        Path(f"read-{context.partition_key}.json").write_text(json.dumps(sorted(usage)))
        return sum(usage.values())
"""


def _read(project, day):
    return json.loads((project.root / f"read-{day}.json").read_text())


def test_a_tenant_added_later_does_not_hold_back_earlier_days_but_is_read(project):
    project.write("legato.toml", 'modules = ["pipes"]\nexecutor = "inprocess"\n')
    project.write("pipes.py", PROJECT)
    project.legato("partitions", "add", "tenant", "acme", "--since", "2025-01-01", check=True)
    project.legato("partitions", "add", "tenant", "globex", check=True)  # onboarded today

    project.legato("run", "usage", "--partition", "tenant=acme,date=2025-01-02", check=True)
    done = project.legato("run", "daily_total", "--partition", "2025-01-02")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(project, "2025-01-02") == ["tenant=acme,date=2025-01-02"]

    # globex's history arrives later: the same day now reads it too
    project.legato("run", "usage", "--partition", "tenant=globex,date=2025-01-02", check=True)
    project.legato("run", "daily_total", "--partition", "2025-01-02", check=True)
    assert _read(project, "2025-01-02") == [
        "tenant=acme,date=2025-01-02",
        "tenant=globex,date=2025-01-02",
    ]

    # a tenant onboarded with its history is waited for on the days it covers
    project.legato("partitions", "add", "tenant", "initech", "--since", "2025-01-01", check=True)
    waiting = project.legato("run", "daily_total", "--partition", "2025-01-02")
    assert waiting.returncode != 0
    assert "initech" in waiting.stdout + waiting.stderr
