"""``legato check`` reports every definition error with file:line and the fix."""


def test_check_reports_import_errors_cycles_and_missing_upstreams_together(project):
    project.write("legato.toml", 'modules = ["good", "broken", "cyclic"]\n')
    project.write(
        "good.py",
        """
        import legato as lg

        @lg.asset
        def orders():
            return [1]

        @lg.asset
        def revenue(ordrs):
            return ordrs
    """,
    )
    project.write(
        "broken.py",
        """
        import legato as lg

        x = 1
        raise RuntimeError("cannot reach the config server")
    """,
    )
    project.write(
        "cyclic.py",
        """
        import legato as lg

        @lg.asset(deps=["c"])
        def a():
            return 1

        @lg.asset
        def b(a):
            return a

        @lg.asset
        def c(b):
            return b
    """,
    )
    result = project.legato("check")
    assert result.returncode == 1
    err = result.stderr
    assert "cannot import 'broken': RuntimeError: cannot reach the config server" in err
    assert "broken.py:5" in err
    assert "revenue" in err and "did you mean 'orders'" in err and "good.py:8" in err
    assert "a → b → c → a" in err
    assert "3 error(s)" in result.stdout


def test_check_reports_a_syntax_error_with_its_line(project):
    project.write("legato.toml", 'modules = ["typo"]\n')
    project.write("typo.py", "import legato as lg\n\ndef broken(:\n    pass\n")
    result = project.legato("check")
    assert result.returncode == 1
    assert "SyntaxError" in result.stderr and "typo.py:3" in result.stderr


def test_check_refuses_a_module_that_exits_at_import(project):
    project.write("legato.toml", 'modules = ["exits"]\n')
    project.write("exits.py", "import sys\nsys.exit(3)\n")
    result = project.legato("check")
    assert result.returncode == 1 and "called sys.exit(3)" in result.stderr


def test_check_points_at_a_pipeline_selecting_nothing_or_with_a_config_that_does_not_fit(project):
    project.write("legato.toml", 'modules = ["p"]\n')
    project.write(
        "p.py",
        """
        import msgspec
        import legato as lg

        class Limits(msgspec.Struct):
            limit: int = 10

        @lg.asset(group="sales")
        def orders(config: Limits):
            return 1

        nightly = lg.Pipeline("nightly", select="group:sale")
        weekly = lg.Pipeline("weekly", select="orders", config={"orders": {"limt": 5}})
    """,
    )
    result = project.legato("check")
    assert result.returncode == 1
    assert "pipeline 'nightly'" in result.stderr and "did you mean 'sales'" in result.stderr
    said = " ".join(result.stderr.split())
    assert "pipeline 'weekly'" in said and "orders.limt is not a known key" in said
    assert "did you mean 'limit'?" in said


def test_check_names_a_scheduled_pipeline_whose_steps_need_config_it_does_not_give(project):
    project.write("legato.toml", 'modules = ["p"]\n')
    source = """
        import msgspec
        import legato as lg

        class Export(msgspec.Struct):
            table: str
            rows: int = 100

        @lg.task
        def export(config: Export) -> str:
            return config.table

        nightly = lg.Pipeline("nightly", select="export", triggers=[lg.Cron("0 2 * * *")])
        # webhooks, messages and sensors carry their runs' config: the pipeline's is a default
        hooked = lg.Pipeline(
            "hooked",
            select="export",
            config={"export": {"rows": 5}},
            triggers=[lg.Webhook(secret_env="HOOK"), lg.OnMessage(lg.RedisStreamSource("s"))],
        )
        typo = lg.Pipeline("typo", select="export", config={"export": {"rows": "5"}})
    """
    project.write("p.py", source)
    result = project.legato("check")
    assert result.returncode == 1, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "pipeline 'nightly'" in said
    assert "p.py:13): a scheduled run gets only its pipeline's config: the run config" in said
    assert "the run config of step 'export' is invalid: export is required" in said
    assert "or set them in Pipeline('nightly', config={...})" in said
    assert "add 'export' (an object with 'table')" in said
    assert "pipeline 'typo'" in said and "export.rows must be a whole number" in said
    assert "pipeline 'hooked'" not in said and "2 error(s)" in result.stdout
    fixed = source.replace(
        'typo", select="export", config={"export": {"rows": "5"}}', 'typo", select="export"'
    )
    fixed = fixed.replace(
        'select="export", triggers=[lg.Cron',
        'select="export", config={"export": {"table": "t"}}, triggers=[lg.Cron',
    )
    project.write("p.py", fixed)
    result = project.legato("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_settings_are_refused_with_the_known_ones(project):
    project.write("legato.toml", 'modules = ["p"]\nexecuter = "process"\n')
    result = project.legato("check")
    assert result.returncode == 2
    assert "unknown setting(s) ['executer']" in result.stderr and "executor" in result.stderr
