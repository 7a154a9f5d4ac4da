"""``legato automation enable/disable`` before any daemon ran: the trigger is registered from the
project on disk and switched, and a trigger that does not exist is an error naming the ones that
do (it used to print "disabled" and change nothing)."""

SCHEDULED = """
    import legato as lg

    @lg.task
    def job() -> None:
        return None

    nightly = lg.Pipeline("nightly", select="job", triggers=[lg.Cron("0 2 * * *")])
"""


def test_a_trigger_is_switched_before_any_daemon_ran_and_a_typo_is_refused(project):
    project.write("legato.toml", 'modules = ["pipes"]\n')
    project.write("pipes.py", SCHEDULED)

    off = project.legato("automation", "disable", "nightly#0:cron")
    assert off.returncode == 0, off.stdout + off.stderr
    listed = project.legato("automation", "list", check=True).stdout
    assert "nightly#0:cron" in listed and "no" in listed, listed

    typo = project.legato("automation", "disable", "nightly#1:cron")
    assert typo.returncode == 2  # bad input, as for every command
    assert "no trigger 'nightly#1:cron'" in typo.stderr and "nightly#0:cron" in typo.stderr

    on = project.legato("automation", "enable", "nightly#0:cron")
    assert on.returncode == 0 and "enabled" in on.stdout
    assert "yes" in project.legato("automation", "list", check=True).stdout
