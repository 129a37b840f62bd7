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
        assert len(svc.index.watch_pdq) == 1 and len(svc.index.watch_exact) == 1

        def watch_rows() -> int:
            with svc.store.session() as s:
                return int(s.scalar(select(func.count()).select_from(ExchangeWatch)) or 0)

        assert watch_rows() == 2
        svc.query(b, body)  # the same hashes again: nothing new to watch
        assert watch_rows() == 2 and len(svc.index.watch_pdq) == 1
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
