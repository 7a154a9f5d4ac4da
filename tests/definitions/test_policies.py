import random

import pytest

import legato as lg


def test_retry_delays_grow_with_backoff_and_stay_within_jitter():
    policy = lg.Retry(5, delay=1.0, backoff=2.0, jitter=0.1, max_delay=5.0)
    rng = random.Random(7)
    delays = [policy.delay_for(n, rng) for n in range(1, 6)]
    for got, base in zip(delays, [1, 2, 4, 5, 5], strict=True):
        assert base * 0.9 <= got <= base * 1.1


def test_retry_on_matches_exception_names_and_limits_attempts():
    policy = lg.Retry(2, retry_on=[ConnectionError])
    assert policy.retry_on == ("ConnectionError",)
    assert policy.should_retry(1, ["ConnectionRefusedError", "ConnectionError", "OSError"])
    assert policy.should_retry(2, ["ConnectionError"])
    assert not policy.should_retry(3, ["ConnectionError"])
    assert not policy.should_retry(1, ["ValueError", "Exception"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_retries": -1}, "max_retries"),
        ({"delay": -1}, "delay"),
        ({"backoff": 0.5}, "shrink"),
        ({"jitter": 2}, "jitter"),
        ({"retry_on": [42]}, "retry_on"),
    ],
)
def test_invalid_retry_arguments_are_refused(kwargs, match):
    with pytest.raises(lg.DefinitionError, match=match):
        lg.Retry(**kwargs)
