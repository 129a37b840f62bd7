"""Push, query, changes and series links against `tantalio exchange serve` (a real process on
SQLite and PostgreSQL): answers carry the contract's fields only, never case content."""

from __future__ import annotations

import secrets

from conftest import Exchange, audit_actions, flip, random_pdq

MATCH_FIELDS = {
    "agency",
    "country",
    "contact",
    "series",
    "status",
    "victim_identified",
    "offender_identified",
    "category",
    "match",
    "distance",
    "first_seen",
    "last_seen",
    "updated_at",
}


def test_push_then_query_exact_pdq_orientations_and_vpdq(exchange: Exchange) -> None:
    a, b = exchange.agency(country="DE"), exchange.agency(country="FR")
    sha, pdq = secrets.token_hex(32), random_pdq()
    frames = [random_pdq() for _ in range(5)]
    pushed = a.post(
        "/v1/records",
        json={
            "records": [
                {
                    "sha256": sha,
                    "md5": secrets.token_hex(16),
                    "pdq": pdq,
                    "pdq_quality": 90,
                    "category": 1,
                    "series": "A-7",
                    "status": "identified",
                    "victim_identified": True,
                    "case_ref": "OP-SECRET-41",
                    "first_seen": "2026-01-02",
                    "shared": None,
                },
                {"vpdq": frames, "series": "A-vid", "status": "in-progress"},
            ]
        },
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json() == {
        "accepted": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "refused": [],
    }
    rotated_only = random_pdq()  # the query image's own PDQ differs; a rotation is near
    answer = b.post(
        "/v1/query",
        json={
            "queries": [
                {"id": "exact", "sha256": sha.upper()},
                {"id": "near", "pdq": flip(pdq, 31), "pdq_quality": 80},
                {"id": "far", "pdq": flip(pdq, 40)},
                {"id": "rot", "pdq": rotated_only, "pdq_orientations": [flip(pdq, 5)]},
                {"id": "video", "vpdq": [flip(f, 3) for f in frames[:4]]},
                {"id": "low-quality", "pdq": pdq, "pdq_quality": 10},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    results = {r["id"]: r["matches"] for r in answer.json()["results"]}
    assert [m["match"] for m in results["exact"]] == ["sha256"]
    m = results["exact"][0]
    assert set(m) == MATCH_FIELDS  # never case_ref or any other case content
    assert "OP-SECRET-41" not in answer.text
    assert m["agency"] == a.agency and m["country"] == "DE"  # type: ignore[attr-defined]
    assert (m["series"], m["status"], m["victim_identified"]) == ("A-7", "identified", True)
    assert (m["category"], m["first_seen"], m["distance"]) == (1, "2026-01-02", 0)
    assert m["contact"] == f"desk of {a.agency}"  # type: ignore[attr-defined]
    assert [(x["match"], x["distance"]) for x in results["near"]] == [("pdq", 31)]
    assert results["far"] == []
    assert [(x["match"], x["distance"]) for x in results["rot"]] == [("pdq", 5)]
    assert [(x["match"], x["series"]) for x in results["video"]] == [("vpdq", "A-vid")]
    assert results["low-quality"] == []  # below the PDQ quality gate: not PDQ-matched
    # Without orientations only the query's own PDQ is searched.
    plain = b.post(
        "/v1/query",
        json={
            "queries": [{"id": "rot", "pdq": rotated_only, "pdq_orientations": [pdq]}],
            "orientations": False,
        },
    )
    assert plain.json()["results"] == [{"id": "rot", "matches": []}]
    # The caller's own records are never returned.
    own = a.post("/v1/query", json={"queries": [{"id": 1, "sha256": sha}]})
    assert own.json() == {"results": [{"id": 1, "matches": []}]}
    # Audited: counts only, never a hash value.
    events = audit_actions(exchange.db_url)
    pushes = [e for e in events if e[0] == "records.push" and e[1] == a.agency]  # type: ignore[attr-defined]
    assert pushes and pushes[-1][2]["created"] == 2
    queries = [e for e in events if e[0] == "query" and e[1] == b.agency]  # type: ignore[attr-defined]
    assert queries[0][2] == {"queries": 6, "matched_queries": 4, "matches": 4}
    assert not any(sha in str(e) or pdq in str(e) for e in events)


def test_push_updates_by_identity_and_refuses_malformed_by_index(exchange: Exchange) -> None:
    a, b = exchange.agency(), exchange.agency()
    sha = secrets.token_hex(32)
    rec = {"sha256": sha, "status": "unidentified", "series": "S1"}
    first = a.post("/v1/records", json={"records": [rec]}).json()
    assert (first["created"], first["updated"]) == (1, 0)
    again = a.post("/v1/records", json={"records": [rec]}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    bad = [
        {"sha256": "zz" * 32},
        {"md5": "abc"},
        {"category": 1},  # no hash
        {"sha256": secrets.token_hex(32), "status": "solved"},
        {"pdq": random_pdq(), "category": 9},
        "not an object",
        dict(rec, status="identified", victim_identified=True),  # the one good record
    ]
    out = a.post("/v1/records", json={"records": bad})
    assert out.status_code == 200
    body = out.json()
    assert (body["accepted"], body["created"], body["updated"]) == (1, 0, 1)
    assert [r["index"] for r in body["refused"]] == [0, 1, 2, 3, 4, 5]
    assert "sha256 must be 64 hex digits" in body["refused"][0]["error"]
    assert "zz" not in out.text  # refusals never echo the value
    seen = b.post("/v1/query", json={"queries": [{"id": "x", "sha256": sha}]}).json()
    assert seen["results"][0]["matches"][0]["status"] == "identified"
    # A whole batch of queries with one malformed hash is refused (400), naming the query.
    refused = b.post(
        "/v1/query", json={"queries": [{"id": "ok", "sha256": sha}, {"id": "bad", "pdq": "12"}]}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "bad_query",
        "detail": "query 1: pdq must be 64 hex digits",
    }


def test_changes_feed_follows_watched_hashes(exchange: Exchange) -> None:
    a, b = exchange.agency(), exchange.agency()
    sha, pdq = secrets.token_hex(32), random_pdq()
    start = b.get("/v1/changes", params={"since": 0}).json()["last_seq"]
    # B asks about a hash nobody has yet (a watch), and pushes a PDQ of its own.
    b.post("/v1/query", json={"queries": [{"id": "w", "sha256": sha}]})
    b.post("/v1/records", json={"records": [{"pdq": pdq, "series": "B-1"}]})
    # A pushes both; later identifies; later retracts.
    a.post("/v1/records", json={"records": [{"sha256": sha, "status": "in-progress"}]})
    a.post("/v1/records", json={"records": [{"pdq": flip(pdq, 9), "series": "A-9"}]})
    page = b.get("/v1/changes", params={"since": start}).json()
    assert [c["watched"] for c in page["changes"]] == [{"sha256": sha}, {"pdq": pdq}]
    assert [c["match"]["match"] for c in page["changes"]] == ["sha256", "pdq"]
    assert page["changes"][1]["match"]["distance"] == 9
    assert page["more"] is False and page["last_seq"] == page["changes"][-1]["seq"]
    a.post(
        "/v1/records",
        json={"records": [{"sha256": sha, "status": "identified", "victim_identified": True}]},
    )
    later = b.get("/v1/changes", params={"since": page["last_seq"]}).json()
    assert [(c["match"]["status"], c["match"]["retracted"]) for c in later["changes"]] == [
        ("identified", False)
    ]
    a.post("/v1/records/retract", json={"records": [{"sha256": sha}]})
    last = b.get("/v1/changes", params={"since": later["last_seq"]}).json()
    assert [c["match"]["retracted"] for c in last["changes"]] == [True]
    # Paging: limit 1 gives one change and says there is more.
    one = b.get("/v1/changes", params={"since": start, "limit": 1}).json()
    assert len(one["changes"]) == 1 and one["more"] is True
    # A's own changes never reach A's feed.
    assert a.get("/v1/changes").json()["changes"] == [] or all(
        c["match"]["agency"] != a.agency  # type: ignore[attr-defined]
        for c in a.get("/v1/changes").json()["changes"]
    )


def test_series_links_seen_by_both_agencies(exchange: Exchange) -> None:
    a, b = exchange.agency(country="NL"), exchange.agency(country="ES")
    shared = [secrets.token_hex(32) for _ in range(3)]
    pdq = random_pdq()
    a.post(
        "/v1/records",
        json={
            "records": [{"sha256": h, "series": "NL-3", "status": "identified"} for h in shared]
            + [{"pdq": pdq, "series": "NL-3", "status": "identified"}]
        },
    )
    b.post(
        "/v1/records",
        json={
            "records": [{"sha256": h, "series": "ES-8"} for h in shared[:2]]
            + [{"pdq": flip(pdq, 12), "series": "ES-8"}, {"sha256": secrets.token_hex(32)}]
        },
    )
    links_b = b.get("/v1/series/links").json()["links"]
    assert links_b == [
        {
            "series": "ES-8",
            "agency": a.agency,  # type: ignore[attr-defined]
            "country": "NL",
            "other_series": "NL-3",
            "shared_media": 3,
            "other_status": "identified",
        }
    ]
    links_a = a.get("/v1/series/links").json()["links"]
    assert [(x["series"], x["other_series"], x["shared_media"]) for x in links_a] == [
        ("NL-3", "ES-8", 3)
    ]
    assert links_a[0]["other_status"] == "unidentified"


def test_bulk_push_fans_out_pdq_in_the_background(exchange: Exchange) -> None:
    """A push of more than 2,000 records answers once they are stored; the feed rows and
    links of their PDQ near-duplicates follow from the server's worker."""
    import time

    a, b = exchange.agency(), exchange.agency()
    pdq, sha = random_pdq(), secrets.token_hex(32)
    b.post("/v1/records", json={"records": [{"pdq": pdq, "series": "B-near"}]})
    b.post("/v1/query", json={"queries": [{"id": "w", "sha256": sha}]})
    start = b.get("/v1/changes").json()["last_seq"]
    bulk = [{"sha256": secrets.token_hex(32), "pdq": random_pdq()} for _ in range(2_050)]
    bulk[7] = {"pdq": flip(pdq, 6), "series": "A-bulk"}
    bulk[9] = {"sha256": sha, "series": "A-bulk"}
    out = a.post("/v1/records", json={"records": bulk}).json()
    assert out["created"] == 2_050
    deadline = time.time() + 120
    while a.get("/v1/status").json()["pending_fanout"]:
        assert time.time() < deadline, "deferred fan-out did not finish"
        time.sleep(0.5)
    feed = b.get("/v1/changes", params={"since": start}).json()["changes"]
    assert sorted((c["match"]["match"], c["match"]["distance"]) for c in feed) == [
        ("pdq", 6),
        ("sha256", 0),
    ]
    links = b.get("/v1/series/links").json()["links"]
    assert [(x["series"], x["other_series"]) for x in links] == [("B-near", "A-bulk")]
