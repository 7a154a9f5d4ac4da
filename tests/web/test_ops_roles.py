"""The role matrix of the partition, backfill and automation routes over real records: viewers
read, operators (and admins) also steer; every refusal is a 403 with the error shape, and a
refused request changes nothing."""

from __future__ import annotations

from urllib.parse import quote

from web_ops_sample import Ops

from legato.store.automation import list_triggers
from legato.store.backfills import get_backfill, list_backfills
from legato.store.partitions import dynamic_keys
from legato.web.audit import list_audit
from legato.web.policy import POLICY, Role

TRIGGER = quote("parts_nightly#0:cron", safe="")
PREFIXES = ("/api/v1/partitions", "/api/v1/backfills", "/api/v1/automation")


def _reads(ops: Ops) -> list[str]:
    return [
        "/api/v1/partitions/sets",
        "/api/v1/partitions/sets/tenants",
        "/api/v1/assets/regional_sales/partitions",
        "/api/v1/assets/regional_sales/partitions/matrix",
        "/api/v1/backfills",
        f"/api/v1/backfills/{ops.backfill_id}",
        "/api/v1/automation/triggers",
        f"/api/v1/automation/triggers/{TRIGGER}/ticks",
    ]


def test_the_new_routes_are_classified_viewer_reads_operator_writes():
    new = {k: v for k, v in POLICY.items() if k[1].startswith(PREFIXES) or "partitions" in k[1]}
    assert len(new) == 16
    for (method, path), access in new.items():
        assert access == (Role.VIEWER if method == "GET" else Role.OPERATOR), (method, path)


def test_every_role_reads(ops: Ops, clients):
    for url in _reads(ops):
        for who in ("viewer", "operator", "admin"):
            assert clients[who].get(url).status_code == 200, (who, url)
        assert clients["anon"].get(url).status_code == 401, url


def test_only_operators_and_admins_steer(ops: Ops, clients):
    writes = [
        ("POST", "/api/v1/partitions/sets/tenants", {"keys": ["hooli"]}, 200),
        ("DELETE", "/api/v1/partitions/sets/tenants/hooli", None, 204),
        ("POST", f"/api/v1/automation/triggers/{TRIGGER}/disable", None, 200),
        ("POST", f"/api/v1/automation/triggers/{TRIGGER}/enable", None, 200),
        ("POST", f"/api/v1/backfills/{ops.requested_id}/pause", None, 200),
        ("POST", f"/api/v1/backfills/{ops.requested_id}/resume", None, 200),
        ("POST", f"/api/v1/backfills/{ops.requested_id}/cancel", None, 200),
        (
            "POST",
            "/api/v1/backfills",
            {"selection": "daily_sales", "partitions": ["2024-01-02"]},
            201,
        ),
    ]
    for method, url, body, _ in writes:
        kwargs = {"json": body} if body is not None else {}
        for who in ("anon", "viewer"):
            refused = clients[who].request(method, url, **kwargs)
            assert refused.status_code == (401 if who == "anon" else 403), (who, url)
            assert set(refused.json()["error"]) >= {"code", "message", "field", "hint"}
    assert dynamic_keys(ops.store, "tenants") == ["acme", "globex", "initech"]
    assert all(t.enabled for t in list_triggers(ops.store))
    assert get_backfill(ops.store, ops.requested_id).status == "requested"
    assert len(list_backfills(ops.store)) == 2  # a refused create created nothing
    assert list_audit(ops.store) == []
    for method, url, body, ok in writes:
        kwargs = {"json": body} if body is not None else {}
        assert clients["operator"].request(method, url, **kwargs).status_code == ok, url
    admin = clients["admin"]
    assert admin.post("/api/v1/partitions/sets/tenants", json={"keys": ["hooli"]}).is_success
    assert admin.post(f"/api/v1/automation/triggers/{TRIGGER}/disable").is_success
    assert admin.post(f"/api/v1/backfills/{ops.backfill_id}/cancel").is_success
    actors = [e.actor for e in list_audit(ops.store)]
    assert actors == ["ada"] * 3 + ["otto"] * len(writes)
