"""The exchange's in-memory index keeps query watches apart from records: queries search
records only (watches would slow every query and are never answered), a repeated query
writes no watch twice, and a push still reaches the agencies that watch its hashes."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from conftest import flip, random_pdq
from tantalio.exchange.admin import create_agency
from tantalio.exchange.config import ExchangeConfig
from tantalio.exchange.service import Caller, ExchangeService
from tantalio.store.exchange.models import ExchangeWatch


def _caller(svc: ExchangeService, token: str) -> Caller:
    key = svc.keyring.authenticate(token)
    assert key is not None
    return Caller(key)


def test_watches_stay_out_of_the_records_index_and_still_fan_out(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    token_a, _, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
    token_b, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
    svc = ExchangeService(ExchangeConfig(db_url=db, signing_key=str(tmp_path / "k.pem")))
    svc.start(background=False)
    try:
        a, b = _caller(svc, token_a), _caller(svc, token_b)
        pdq, sha = random_pdq(), secrets.token_hex(32)
        body = {"queries": [{"id": "q1", "sha256": sha, "pdq": pdq}]}
        assert svc.query(b, body) == {"results": [{"id": "q1", "matches": []}]}
        assert len(svc.index.pdq) == 0 and len(svc.index.exact) == 0
        assert svc.index.watch_count() == 2  # buffered until a fan-out needs them
        svc.index.flush_watches()
        assert len(svc.index.watch_pdq) == 1 and len(svc.index.watch_exact) == 1

        def watch_rows() -> int:
            with svc.store.session() as s:
                return int(s.scalar(select(func.count()).select_from(ExchangeWatch)) or 0)

        assert watch_rows() == 2
        svc.query(b, body)  # the same hashes again: nothing new to watch
        assert watch_rows() == 2 and svc.index.watch_count() == 2
        assert svc.index.unwatched([(b.key.agency_id, "pdq", pdq)]) == []
        assert svc.index.unwatched([(a.key.agency_id, "pdq", pdq)]) == [
            (a.key.agency_id, "pdq", pdq)
        ]

        # A's record near B's watched PDQ, and one with B's watched SHA-256: both reach B.
        near = {"pdq": flip(pdq, 9), "pdq_quality": 90, "series": "S1"}
        same = {"sha256": sha, "series": "S2"}
        assert svc.push(a, {"records": [near, same]})["created"] == 2
        assert len(svc.index.pdq) == 1 and len(svc.index.exact) == 1
        feed = svc.changes(b, 0, 100)["changes"]
        assert sorted((c["match"]["match"], c["match"]["distance"]) for c in feed) == [
            ("pdq", 9),
            ("sha256", 0),
        ]
        assert {c["match"]["series"] for c in feed} == {"S1", "S2"}
        # B's query now finds A's records; the answers never name a watch.
        found = svc.query(b, body)["results"][0]["matches"]
        assert sorted(m["series"] for m in found) == ["S1", "S2"]
    finally:
        svc.close()


def test_deferred_fanout_compacts_only_when_asked_and_still_finds_pairs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    token_a, _, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
    token_b, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
    config = ExchangeConfig(db_url=db, signing_key=str(tmp_path / "k.pem"), fanout_batch=1000)
    svc = ExchangeService(config)
    svc.start(background=False)
    try:
        a, b = _caller(svc, token_a), _caller(svc, token_b)
        pdq = random_pdq()
        assert svc.push(b, {"records": [{"pdq": pdq, "series": "B-1"}]})["created"] == 1
        bulk = [{"pdq": random_pdq(), "pdq_quality": 90} for _ in range(2_499)]
        bulk.append({"pdq": flip(pdq, 5), "pdq_quality": 90, "series": "A-9"})
        assert svc.push(a, {"records": bulk})["created"] == 2_500  # > 2,000: deferred
        assert svc.changes(b, 0, 10)["changes"] == []  # the PDQ fan-out waits
        assert svc.index.fragmented()
        assert svc.drain_fanout(compact=False) == 1000  # between pushes: no compaction
        assert svc.index.fragmented()
        assert svc.drain_fanout() == 1000  # in a pause: one segment first
        assert not svc.index.fragmented() and svc.index.pdq.segment_count == 1
        while svc.drain_fanout():
            pass
        assert svc.store.pending_fanout() == 0
        feed = svc.changes(b, 0, 10)["changes"]
        assert [(c["match"]["series"], c["match"]["distance"]) for c in feed] == [("A-9", 5)]
        assert svc.series_links(b)["links"][0]["other_series"] == "A-9"
    finally:
        svc.close()
