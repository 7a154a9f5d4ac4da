import pytest

import legato as lg
from legato.definitions.keys import StepKey, validate_key


def test_asset_decorator_with_and_without_arguments():
    @lg.asset
    def a() -> int:
        return 1

    @lg.asset(group="sales", key="sales.b", retries=2, timeout=5)
    def b(a: int) -> int:
        return a + 1

    assert a.key == "a" and a.kind == "asset"
    assert b.key == "sales.b" and b.name == "b" and b.group == "sales"
    assert b.retries == lg.Retry(2) and b.timeout == 5.0
    assert b(41) == 42  # still callable like the function
    assert "test_asset.py:" in (b.source or "")


def test_task_docstring_becomes_description():
    @lg.task
    def send():
        """Send the report."""

    assert send.kind == "task" and send.description == "Send the report."


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "1abc", "a..b", "x" * 300, "a b", "<script>"])
def test_bad_keys_are_refused_with_the_grammar(bad):
    with pytest.raises(lg.DefinitionError, match=r"not a valid key|must be a string") as info:
        validate_key(bad)
    assert "segments" in str(info.value) or "string" in str(info.value)


def test_var_args_are_refused_with_a_fix():
    with pytest.raises(lg.DefinitionError, match=r"\*args.*name each upstream"):

        @lg.asset
        def f(*args):
            return args


def test_map_over_must_name_a_parameter():
    with pytest.raises(lg.DefinitionError, match="map_over='nope' is not a parameter"):

        @lg.task(map_over="nope")
        def f(items):
            return items


def test_bad_timeout_and_retries_name_the_fix():
    with pytest.raises(lg.DefinitionError, match="timeout=-1 is invalid"):

        @lg.asset(timeout=-1)
        def f():
            return 1

    with pytest.raises(lg.DefinitionError, match="not a policy"):

        @lg.asset(retries="3")  # type: ignore[arg-type]
        def g():
            return 1


def test_step_key_round_trips_through_its_string_form():
    for key in [
        StepKey("a"),
        StepKey("a", "2025-01-01"),
        StepKey("a", "", 3),
        StepKey("sales.x", "tenant=acme,date=2025-01-01", 12),
    ]:
        assert StepKey.parse(str(key)) == key
