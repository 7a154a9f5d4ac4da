"""The code server and the daemon agree on what an evaluation is: what one sends, the other reads
back unchanged, and an answer the daemon cannot read is an error naming the field."""

from __future__ import annotations

import json

import pytest

from legato.automation.evaluation import Evaluation, RequestedRun, as_data, read_evaluation
from legato.errors import LegatoError


def test_an_evaluation_crosses_the_process_boundary_unchanged() -> None:
    sent = Evaluation(
        requests=[
            RequestedRun(
                key="acme/b1",
                partition="acme",
                config={"files": ["landing/acme/b1/x.csv"], "batch": {"tenant": "acme"}},
                tags={"source": "landing"},
                dynamic_partitions={"tenants": ["acme"]},
            ),
            RequestedRun(selection="daily", partition="2025-01-02"),
        ],
        cursor='{"done": []}',
        skip_reason=None,
        dynamic_partitions={"tenants": ["globex"]},
    )
    line = json.dumps(as_data(sent))  # as the code server writes it
    assert read_evaluation(json.loads(line)) == sent


def test_a_skip_needs_only_its_reason() -> None:
    read = read_evaluation({"cursor": "7", "skip_reason": "no new materializations"})
    assert read.requests == [] and read.dynamic_partitions == {}
    assert read.skip_reason == "no new materializations"


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"requests": [{"partition": 3}]}, "$.requests[0].partition"),
        ({"requests": {"partition": "a"}}, "$.requests"),
        ({"cursor": ["not", "text"]}, "$.cursor"),
    ],
)
def test_an_answer_the_daemon_cannot_read_names_the_field(answer: dict, field: str) -> None:
    with pytest.raises(LegatoError) as raised:
        read_evaluation(answer)
    assert field in str(raised.value) and "restart the daemon" in str(raised.value)
