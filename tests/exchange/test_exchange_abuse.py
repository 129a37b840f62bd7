"""Bad input and abuse against the running exchange: each refused, audited, nothing changed.
The exchange is never a match oracle for anyone without a key."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest

from conftest import Exchange, audit_actions, random_pdq
from tantalio.exchange.admin import revoke_key
from tantalio.exchange.app import create_exchange_app
from tantalio.exchange.config import ExchangeConfig


def _routes(exchange: Exchange) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, path parameters filled in."""
    app = create_exchange_app(ExchangeConfig(db_url=exchange.db_url))
    out = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI >= 0.16x
            if included is not None:
                walk(included.routes, prefix + route.include_context.prefix)
                continue
            for method in sorted(getattr(route, "methods", None) or ()):
                if method not in ("HEAD", "OPTIONS"):
                    out.append((method, prefix + route.path.replace("{name}", "worst")))

    walk(app.routes, "")
    return out


def test_every_route_refuses_missing_unknown_and_revoked_keys(exchange: Exchange) -> None:
    owner = exchange.agency()
    sha = secrets.token_hex(32)
    owner.post("/v1/records", json={"records": [{"sha256": sha, "status": "identified"}]})
    routes = _routes(exchange)
    assert ("POST", "/v1/query") in routes and ("GET", "/v1/openapi.json") in routes
    assert len(routes) >= 11
    revoked = exchange.agency()
    revoked.get("/v1/status").raise_for_status()
    assert revoke_key(exchange.db_url, _key_id(exchange, revoked))
    time.sleep(2.2)  # the server caches a verified key for 2 s
    before = len(audit_actions(exchange.db_url))
    bodies = {"json": {"queries": [{"id": "x", "sha256": sha}], "records": [{"sha256": sha}]}}
    headers_sets = [
        {},
        {"Authorization": "Bearer tnt_00000000_" + "A" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {revoked.token}"},  # type: ignore[attr-defined]
    ]
    n = 0
    with httpx.Client(base_url=exchange.url, timeout=10) as anon:
        for method, path in [*routes, ("GET", "/v1/no-such-route"), ("GET", "/docs")]:
            for headers in headers_sets:
                r = anon.request(
                    method, path, headers=headers, **(bodies if method == "POST" else {})
                )
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.json()["error"] == "unauthorized"
                assert sha not in r.text
                n += 1
    events = audit_actions(exchange.db_url)[before:]
    assert len(events) == n and all(e[0] == "refused.unauthorized" for e in events)
    # Nothing changed: the owner's record is still there, as it was.
    other = exchange.agency()
    m = other.post("/v1/query", json={"queries": [{"id": "x", "sha256": sha}]}).json()
    assert m["results"][0]["matches"][0]["status"] == "identified"


def _key_id(exchange: Exchange, client: httpx.Client) -> int:
    from tantalio.platform.auth import hash_key
    from tantalio.store.exchange import ExchangeStore

    store = ExchangeStore(exchange.db_url)
    try:
        key = store.key_by_hash(hash_key(client.token))  # type: ignore[attr-defined]
        assert key is not None
        return key.id
    finally:
        store.close()


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body"),
    [
        (("query",), "POST", "/v1/records", {"records": []}),
        (("query",), "POST", "/v1/records/retract", {"records": []}),
        (("push",), "POST", "/v1/query", {"queries": []}),
        (("push",), "GET", "/v1/changes", None),
        (("push",), "GET", "/v1/series/links", None),
        (("push", "query"), "POST", "/v1/lists", {"name": "x", "rule": {}}),
        (("push", "query"), "POST", "/v1/lists/worst/publish", None),
        (("push",), "GET", "/v1/lists/worst/deltas", None),
    ],
)
def test_wrong_scope_is_403_and_audited(
    exchange: Exchange, scopes: tuple[str, ...], method: str, path: str, body: object
) -> None:
    client = exchange.agency(scopes=scopes)
    before = len(audit_actions(exchange.db_url))
    r = client.request(method, path, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden"
    events = audit_actions(exchange.db_url)[before:]
    assert [(e[0], e[1], e[2]["status"]) for e in events] == [
        ("refused.forbidden", client.agency, 403)  # type: ignore[attr-defined]
    ]


def test_another_agencys_record_is_never_changed(exchange: Exchange) -> None:
    a, b = exchange.agency(), exchange.agency()
    sha = secrets.token_hex(32)
    a.post("/v1/records", json={"records": [{"sha256": sha, "series": "A-1"}]})
    # B retracts A's record: not found, audited, A's record stays.
    out = b.post("/v1/records/retract", json={"records": [{"sha256": sha}]})
    assert out.json() == {"retracted": 0, "not_found": 1}
    retraction = [e for e in audit_actions(exchange.db_url) if e[0] == "records.retract"][-1]
    assert retraction[1] == b.agency  # type: ignore[attr-defined]
    assert retraction[2]["held_by_other_agencies"] == 1
    # B pushes the same hash: B gets its own record; A's is untouched.
    b.post("/v1/records", json={"records": [{"sha256": sha, "series": "B-evil"}]})
    c = exchange.agency()
    seen = c.post("/v1/query", json={"queries": [{"id": "x", "sha256": sha}]}).json()
    by_agency = {m["agency"]: m["series"] for m in seen["results"][0]["matches"]}
    assert by_agency == {a.agency: "A-1", b.agency: "B-evil"}  # type: ignore[attr-defined]


def test_malformed_input_is_refused_and_nothing_stored(exchange: Exchange) -> None:
    a = exchange.agency()
    before = len(audit_actions(exchange.db_url))
    cases = [
        ("/v1/records", b"{not json"),
        ("/v1/records", b'{"records": "x"}'),
        ("/v1/records/retract", b'{"records": [{"sha256": "12"}]}'),
        ("/v1/query", b'{"queries": [{"id": "a"}]}'),
        ("/v1/query", b'{"queries": [{"pdq_orientations": ["00"]}]}'),
    ]
    for path, body in cases:
        r = a.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        assert set(r.json()) == {"error", "detail"}
    too_many = a.post("/v1/query", json={"queries": [{"sha256": "0" * 64}] * 10_001})
    assert too_many.status_code == 413 and too_many.json()["error"] == "batch_too_large"
    events = audit_actions(exchange.db_url)[before:]
    assert [e[0] for e in events] == [
        "refused.bad_json",
        "refused.bad_request",
        "refused.bad_retraction",
        "refused.bad_query",
        "refused.bad_query",
        "refused.batch_too_large",
    ]


def test_query_flood_gets_429_with_retry_after_and_is_audited(exchange: Exchange) -> None:
    flood = exchange.agency(rate=0.05, burst=5)
    body = {"queries": [{"id": "x", "pdq": random_pdq()}]}
    codes = [flood.post("/v1/query", json=body) for _ in range(12)]
    assert [r.status_code for r in codes[:5]] == [200] * 5
    refused = [r for r in codes if r.status_code == 429]
    assert len(refused) == 7
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert refused[0].json()["error"] == "rate_limited"
    events = [e for e in audit_actions(exchange.db_url) if e[1] == flood.agency]  # type: ignore[attr-defined]
    assert [e[0] for e in events].count("query") == 5
    # One audit event when the limit trips; the rest are counted into the next one.
    assert [e[0] for e in events].count("refused.rate_limited") == 1
    # The limit is the agency's: a second key of the same agency shares the bucket.
    assert flood.get("/v1/status").status_code == 429


def test_openapi_document_is_served_to_a_key_holder_only(exchange: Exchange) -> None:
    # Issue 11: the exchange has an OpenAPI description; like every route it needs a key.
    assert httpx.get(f"{exchange.url}/v1/openapi.json", timeout=10).status_code == 401
    doc = exchange.agency().get("/v1/openapi.json")
    assert doc.status_code == 200
    spec = doc.json()
    assert spec["openapi"].startswith("3.")
    for path in ("/v1/query", "/v1/records", "/v1/changes"):
        assert path in spec["paths"], path
    assert "/v1/openapi.json" not in spec["paths"]  # served, not described
