"""A user's journey through hand-offs, with ``legato`` on default settings: a blocking check fails
and ``legato runs show`` says what it kept from running and why; then a reader that no longer
fits what it reads makes ``legato check`` fail, naming both ends, and the daemon says the same."""

from __future__ import annotations

import re

from journey import Journey, wait_until

PIPES = """
    import legato as lg

    @lg.asset(checks=[lg.checks.not_null("id", blocking=True)])
    def orders() -> list[dict]:
        return [{"id": 1}, {"id": None}]

    @lg.asset
    def revenue(orders: list[dict]) -> int:
        return len(orders)

    @lg.task
    def report(revenue: int) -> str:
        return f"{revenue} orders"

    nightly = lg.Pipeline("nightly", select="orders+")
"""

REPORTS = """
    import legato as lg

    @lg.asset
    def by_region(revenue: dict[str, float]) -> list[str]:
        return sorted(revenue)
"""


def test_a_blocking_check_skips_downstream_and_a_broken_hand_off_fails_check(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PIPES})
    run = journey.legato("run", "--pipeline", "nightly")
    assert run.returncode == 1, run.stdout + run.stderr
    [run_id] = re.findall(r"^run (\S+) failed\s*$", run.stdout, re.M)

    shown = journey.ok("runs", "show", run_id).stdout
    assert re.search(r"orders:check:not_null_id\s+│ check │ failed", shown), shown
    for step in ("revenue", "report"):
        assert re.search(rf"^ {step}\s+│ \w+\s+│ skipped", shown, re.M), shown
    blocked = "skipped revenue: blocking check orders:check:not_null_id failed on orders"
    assert blocked in shown.splitlines(), shown

    journey.write({"pipes.py": PIPES, "reports.py": REPORTS})  # a new reader of revenue
    check = journey.legato("check")
    assert check.returncode == 1, check.stdout + check.stderr
    [error] = [line for line in check.stderr.splitlines() if line.startswith("error:")]
    pipes, reports = journey.dir / "pipes.py", journey.dir / "reports.py"
    assert (
        f"error: asset 'by_region' ({reports}:4) reads 'revenue' from asset 'revenue' "
        f"({pipes}:8): revenue returns int, by_region expects dict[str, float]"
    ) in error, check.stderr
    assert "1 error(s)" in check.stdout, check.stdout

    # the daemon reads the same definitions: it says what does not fit, both ends and the fix
    daemon = journey.start("daemon")
    said = f"asset 'by_region' ({reports}:4) reads 'revenue' from asset 'revenue' ({pipes}:8)"
    wait_until(lambda: said in daemon.output(), what="the daemon's contract error")
    [line] = [x for x in daemon.output().splitlines() if said in x]
    assert "revenue returns int, by_region expects dict[str, float]" in line, line
    assert "fix: make revenue return dict[str, float]" in line, line
