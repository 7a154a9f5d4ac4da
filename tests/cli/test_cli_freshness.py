"""``legato freshness``: each policy and SLA, fresh or late now, then the recorded violations;
``--check`` exits 1 while anything is late."""

from __future__ import annotations

from click.testing import CliRunner

from legato.cli.main import cli


def test_freshness_lists_policies_states_and_exits_1_with_check_while_late(project):
    project.write("legato.toml", 'modules = ["pipes"]\n')
    project.write(
        "pipes.py",
        """
        import legato as lg

        @lg.asset(freshness=lg.Freshness(max_lag="2h"))
        def revenue():
            return 1

        @lg.asset(freshness=lg.Freshness(deadline="06:00", timezone="Europe/Paris"))
        def report(revenue):
            return revenue

        nightly = lg.Pipeline("nightly", select="revenue", sla="45m")
        """,
    )
    runner = CliRunner()
    args = ["--project", str(project.root), "freshness"]
    result = runner.invoke(cli, [*args, "--check"])
    assert result.exit_code == 1, result.output
    assert "revenue" in result.output and "at most 2h old" in result.output
    assert "by 06:00 (Europe/Paris)" in result.output and result.output.count(" late ") == 2
    assert "nightly" in result.output and "45m" in result.output
    assert "no open violations" in result.output  # nothing recorded without a daemon

    project.write("legato.toml", 'modules = ["broken_sla"]\n')  # a module not imported yet
    bad = project.write("broken_sla.py", 'import legato as lg\nlg.Pipeline("p", sla="soon")\n')
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "sla 'soon' is not a duration" in result.output
    assert bad.name in result.output
