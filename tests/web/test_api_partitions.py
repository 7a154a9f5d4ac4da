"""Partitions over the API: an asset's counts and key pages, the status matrix, dynamic sets
(add with the key grammar, remove), bounds, hostile keys and the audit log."""

from __future__ import annotations

from urllib.parse import quote

from web_helpers import Client, local_client
from web_ops_sample import FAILING_DAY, Ops

from legato.store.partitions import dynamic_keys
from legato.web.app import create_app
from legato.web.audit import list_audit

BASE = "/api/v1"
HOSTILE_KEYS = ["../x", "a,b", "k" * 10_000, "a=b", "x|y", "C:evil", "%2e%2e", " lead", "a/b", "."]
INJECTIONS = ["'", "' OR 1=1 --", "x'; DROP TABLE dynamic_partitions; --", "%", "_", "\\"]


def _client(ops: Ops) -> Client:
    return local_client(create_app(ops.store))


def _all_keys(client: Client, asset: str, **params: object) -> list[dict]:
    keys, cursor = [], None
    while True:
        page = client.get(
            f"{BASE}/assets/{asset}/partitions", params={**params, "cursor": cursor}
        ).json()
        keys += page["keys"]
        cursor = page["next_cursor"]
        if cursor is None:
            return keys


def test_counts_and_key_pages_follow_the_space_newest_first(ops: Ops):
    client = _client(ops)
    body = client.get(f"{BASE}/assets/daily_sales/partitions", params={"limit": 5}).json()
    assert body["summary"].startswith("daily partitions from 2024-01-01")
    assert body["time_dimension"] == "date" and body["partitions"]["kind"] == "time_window"
    assert body["counts"] == {
        "total": 60,
        "materialized": 3,  # two by hand, one by the backfill; FAILING_DAY failed both times
        "failed": 1,
        "in_progress": 0,
        "missing": 56,
    }
    assert [k["key"] for k in body["keys"]] == [f"2024-02-{d}" for d in (29, 28, 27, 26, 25)]
    newest = _all_keys(client, "daily_sales", limit=7)
    oldest = _all_keys(client, "daily_sales", limit=1000, order="oldest")
    assert len(newest) == 60 and [k["key"] for k in newest] == [k["key"] for k in oldest][::-1]
    status = {k["key"]: k for k in newest}
    assert status[FAILING_DAY]["status"] == "failed" and status[FAILING_DAY]["run_id"]
    assert status["2024-02-08"]["status"] == "materialized"
    assert status["2024-02-08"]["materialized_at"] > 0
    assert status["2024-01-01"] == {
        "key": "2024-01-01",
        "status": "missing",
        "run_id": None,
        "materialized_at": None,
    }


def test_product_and_dynamic_spaces_page_their_keys(ops: Ops):
    client = _client(ops)
    regional = client.get(f"{BASE}/assets/regional_sales/partitions", params={"limit": 4}).json()
    assert [d["name"] for d in regional["dimensions"]] == ["date", "region"]
    assert regional["counts"]["total"] == 180 and regional["counts"]["materialized"] == 2
    assert regional["keys"][0] == {
        "key": "date=2024-02-29,region=apac",
        "status": "missing",
        "run_id": None,
        "materialized_at": None,
    }
    assert regional["keys"][2]["key"] == "date=2024-02-29,region=eu"
    assert regional["keys"][2]["status"] == "materialized"
    tenants = client.get(f"{BASE}/assets/tenant_report/partitions").json()
    assert tenants["dimensions"] == [{"name": "tenants", "kind": "dynamic", "count": 3}]
    assert [(k["key"], k["status"]) for k in tenants["keys"]] == [
        ("initech", "missing"),
        ("globex", "missing"),
        ("acme", "materialized"),
    ]


def test_matrix_of_a_product_is_time_by_region_and_pages_both_ways(ops: Ops):
    client = _client(ops)
    url = f"{BASE}/assets/regional_sales/partitions/matrix"
    grid = client.get(url, params={"columns": 3, "rows": 2}).json()
    assert grid["layout"] == "grid" and grid["column_dimension"] == "date"
    assert grid["row_dimension"] == "region"
    assert grid["columns"] == ["2024-02-27", "2024-02-28", "2024-02-29"]
    assert [r["label"] for r in grid["rows"]] == ["eu", "us"]
    assert [c["status"] for c in grid["rows"][0]["cells"]] == ["missing", "missing", "materialized"]
    assert grid["rows"][1]["cells"][1]["key"] == "date=2024-02-28,region=us"
    assert grid["earlier_end"] == "2024-02-26" and grid["later_end"] is None
    assert grid["next_row_after"] == "us"
    rest = client.get(url, params={"columns": 3, "rows": 2, "row_after": "us"}).json()
    assert [r["label"] for r in rest["rows"]] == ["apac"] and rest["next_row_after"] is None
    earlier = client.get(url, params={"columns": 3, "end": grid["earlier_end"]}).json()
    assert earlier["columns"] == ["2024-02-24", "2024-02-25", "2024-02-26"]
    assert earlier["later_end"] == "2024-02-29"
    flipped = client.get(url, params={"dimension": "region", "rows": 2}).json()
    assert flipped["columns"] == ["eu", "us", "apac"] and flipped["row_dimension"] == "date"
    assert [r["label"] for r in flipped["rows"]] == ["2024-01-01", "2024-01-02"]
    widest = client.get(url, params={"columns": 62, "rows": 50}).json()
    assert len(widest["columns"]) == 60 and len(widest["rows"]) == 3


def test_matrix_of_one_dimension_is_its_keys_in_rows(ops: Ops):
    client = _client(ops)
    url = f"{BASE}/assets/daily_sales/partitions/matrix"
    grid = client.get(url, params={"columns": 7, "rows": 2}).json()
    assert grid["layout"] == "sequence" and grid["columns"] == []
    keys = [c["key"] for row in grid["rows"] for c in row["cells"]]
    assert keys == [f"2024-02-{d:02d}" for d in range(16, 30)]
    assert grid["rows"][0]["label"] == "2024-02-16" and grid["earlier_end"] == "2024-02-15"
    back = client.get(url, params={"columns": 7, "rows": 2, "end": FAILING_DAY}).json()
    cells = {c["key"]: c["status"] for row in back["rows"] for c in row["cells"]}
    assert cells[FAILING_DAY] == "failed" and cells["2024-02-08"] == "materialized"
    assert back["later_end"] == "2024-02-24"


def test_bounds_and_hostile_values_are_400_never_500(ops: Ops):
    client = _client(ops)
    partitions = f"{BASE}/assets/daily_sales/partitions"
    for params in (
        {"limit": 1001},
        {"limit": 0},
        {"order": "sideways"},
        {"cursor": "!!!"},
        {"cursor": "WyJrIiwgIm5vdC1hLWtleSJd"},  # ["k", "not-a-key"]
        {"cursor": "x" * 7000},
    ):
        response = client.get(partitions, params=params)
        assert response.status_code == 400, (params, response.text)
        assert set(response.json()["error"]) >= {"code", "message", "field", "hint"}
    matrix = f"{BASE}/assets/regional_sales/partitions/matrix"
    for params in (
        {"columns": 63},
        {"rows": 51},
        {"columns": 0},
        {"dimension": "colour"},
        {"dimension": "x" * 100},
        *({"end": key} for key in HOSTILE_KEYS[:4]),
        *({"row_after": key} for key in INJECTIONS),
        {"end": "a\x00b"},
    ):
        response = client.get(matrix, params=params)
        assert response.status_code == 400, (params, response.text)
    sequence = f"{BASE}/assets/daily_sales/partitions/matrix"
    assert client.get(sequence, params={"row_after": "2024-01-01"}).status_code == 400
    assert client.get(f"{BASE}/assets/nope/partitions").status_code == 404
    assert client.get(f"{BASE}/assets/{'a' * 10_000}/partitions").status_code == 400
    assert client.get(f"{BASE}/assets/..%2Fx/partitions").status_code == 404


def test_an_unpartitioned_asset_has_no_partitions(seeded, store):
    client = local_client(create_app(store))
    response = client.get(f"{BASE}/assets/raw_orders/partitions")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_partitioned"
    matrix = client.get(f"{BASE}/assets/raw_orders/partitions/matrix")
    assert matrix.status_code == 404


def test_dynamic_sets_list_page_and_filter(ops: Ops):
    client = _client(ops)
    sets = client.get(f"{BASE}/partitions/sets").json()["sets"]
    assert sets == [{"name": "tenants", "count": 3, "assets": ["tenant_report"]}]
    first = client.get(f"{BASE}/partitions/sets/tenants", params={"limit": 2}).json()
    assert [k["key"] for k in first["keys"]] == ["acme", "globex"]
    assert first["keys"][0]["added_by"] == "test" and first["count"] == 3
    rest = client.get(
        f"{BASE}/partitions/sets/tenants", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [k["key"] for k in rest["keys"]] == ["initech"] and rest["next_cursor"] is None
    glob = client.get(f"{BASE}/partitions/sets/tenants", params={"prefix": "gl"}).json()
    assert [k["key"] for k in glob["keys"]] == ["globex"]
    for text in INJECTIONS:
        found = client.get(f"{BASE}/partitions/sets/tenants", params={"prefix": text})
        assert found.status_code == 200 and found.json()["keys"] == [], text
    assert client.get(f"{BASE}/partitions/sets/customers").status_code == 404
    for bad in ("1abc", "a" * 65, "a.b"):
        assert client.get(f"{BASE}/partitions/sets/{bad}").status_code == 400, bad
    assert dynamic_keys(ops.store, "tenants") == ["acme", "globex", "initech"]  # nothing dropped


def test_adding_keys_checks_the_grammar_and_is_audited(ops: Ops):
    client = _client(ops)
    url = f"{BASE}/partitions/sets/tenants"
    added = client.post(url, json={"keys": ["hooli", "acme", "hooli"]})
    assert added.status_code == 200, added.text
    assert added.json() == {
        "name": "tenants",
        "added": ["hooli"],
        "already_present": ["acme"],
        "count": 4,
    }
    (entry, *_) = list_audit(ops.store)
    assert (entry.actor, entry.action, entry.target) == ("local", "partitions.add", "tenants")
    assert entry.detail == {"added": ["hooli"], "count": 1}
    for key in HOSTILE_KEYS:
        response = client.post(url, json={"keys": ["fine-one", key]})
        assert response.status_code == 400, (key[:20], response.text)
        error = response.json()["error"]
        assert error["field"] == "keys" and "partition key is 1 to 256" in error["hint"]
        assert repr(key[:20])[:10] in error["message"] or key[:20] in error["message"]
    assert "fine-one" not in dynamic_keys(ops.store, "tenants")  # all or nothing
    for body in ({"keys": []}, {"keys": ["a"] * 1001}, {"keys": "acme"}, {"keys": ["a\x00b"]}, {}):
        assert client.post(url, json=body).status_code == 400, body
    unknown = client.post(f"{BASE}/partitions/sets/customers", json={"keys": ["x"]})
    assert unknown.status_code == 404 and "tenants" in unknown.json()["error"]["hint"]


def test_removing_a_key(ops: Ops):
    client = _client(ops)
    url = f"{BASE}/partitions/sets/tenants"
    assert client.delete(f"{url}/globex").status_code == 204
    assert dynamic_keys(ops.store, "tenants") == ["acme", "initech"]
    assert list_audit(ops.store)[0].action == "partitions.remove"
    assert client.delete(f"{url}/globex").status_code == 404
    assert client.delete(f"{url}/{quote('a,b', safe='')}").status_code == 400
    assert client.delete(f"{url}/{'k' * 10_000}").status_code == 400
    assert client.delete(f"{url}/..%2Fx").status_code == 404  # decoded to a path: no such route
    assert client.delete(f"{BASE}/partitions/sets/customers/acme").status_code == 404
