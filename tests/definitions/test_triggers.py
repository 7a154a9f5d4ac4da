"""FileArrival is checked where it is written: every template names fields of its pattern, and
the archive and quarantine are not inside the landing directory."""

import pytest

import legato as lg


def _arrival(**options):
    options.setdefault("path", "landing")
    return lg.FileArrival(pattern="{tenant}/{batch}/*.csv", **options)


@pytest.mark.parametrize(
    ("options", "problem", "fix"),
    [
        ({"partition": "{customer}"}, "partition '{customer}' names {customer}", "{tenant}"),
        ({"partition": "{tenant"}, "is not a valid template", "{name}"),
        ({"archive_to": "archive/{0}/"}, "is not a valid template", 'archive_to="archive/'),
        ({"archive_to": "archive/{day}/{ts}"}, "names {day}", "{ts}, {batch_id}"),
        ({"dynamic_set": "customer"}, "dynamic_set 'customer' is not a field", "{tenant}"),
        ({"archive_to": "landing/archive"}, "inside the landing directory", 'archive_to="archive"'),
        ({"quarantine_to": "landing/q"}, "inside the landing directory", "quarantine"),
        ({"quarantine_to": "q/{tenant}"}, "is a template", 'quarantine_to="quarantine"'),
        ({"stable_for": -1}, "must be positive", "stable_for >= 0"),
        ({"path": "s3://bucket/landing"}, "is a URL", "@lg.sensor"),
    ],
)
def test_a_file_arrival_that_cannot_work_is_refused_with_its_line_and_the_fix(
    options, problem, fix
):
    with pytest.raises(lg.DefinitionError) as error:
        _arrival(**options)
    message = str(error.value)
    assert f"FileArrival ({__file__}:" in message and problem in message and fix in message


def test_templates_may_use_the_pattern_fields_ts_and_batch_id():
    arrival = _arrival(
        partition="tenant={tenant}",
        archive_to="archive/{tenant}/{ts}-{batch_id}/",
        quarantine_to="quarantine",
        dynamic_set="tenant",
    )
    assert arrival.fields == ("tenant", "batch")
    assert arrival.stable_for == 5 and arrival.follow_links is False
    assert arrival.describe()["archive_to"] == "archive/{tenant}/{ts}-{batch_id}/"


@pytest.mark.parametrize("tolerance", [0, -5, 86401, True, "300"])
def test_a_webhook_tolerance_outside_a_day_is_refused(tolerance):
    with pytest.raises(lg.DefinitionError, match="must be seconds between 0 and 86400"):
        lg.Webhook(secret_env="HOOK", tolerance=tolerance)
    assert lg.Webhook(secret_env="HOOK").describe()["tolerance"] == 300.0


def test_sign_webhook_signs_timestamp_delivery_and_body():
    import hashlib
    import hmac

    headers = lg.sign_webhook("s3cret", b'{"a": 1}', "evt_42", timestamp=1700000000)
    digest = hmac.new(b"s3cret", b'1700000000.evt_42.{"a": 1}', hashlib.sha256).hexdigest()
    assert headers == {
        "X-Legato-Signature": f"t=1700000000,v1={digest}",
        "X-Legato-Delivery": "evt_42",
    }
    with pytest.raises(ValueError, match=r"delivery id 'a\.b'"):
        lg.sign_webhook("s3cret", b"{}", "a.b")


def test_a_webhook_s_secret_variable_is_one_of_the_project_s_secrets():
    """Every process masks the project's secrets: a webhook's signing secret is one of them."""
    from legato.definitions.project import Project

    @lg.task
    def ingest() -> None:
        return None

    hooked = lg.Pipeline("hooked", select="ingest", triggers=[lg.Webhook(secret_env="ORDERS_HOOK")])
    project = Project.of([ingest], [hooked], secrets=["PARTNER_TOKEN"])
    assert project.secret_names() == {"ORDERS_HOOK", "PARTNER_TOKEN"}
