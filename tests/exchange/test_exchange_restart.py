"""The exchange's index is memory only: a restart rebuilds records and watches from the
database, so matches and the change feed carry on as before."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from conftest import flip, random_pdq, serve_exchange
from tantalio.exchange.admin import create_agency


def test_restart_keeps_records_watches_and_feed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    ta, _, _ = create_agency(db, "A", "DE", "desk A", ["push", "query"])
    tb, _, _ = create_agency(db, "B", "FR", "desk B", ["push", "query"])
    ha, hb = ({"Authorization": f"Bearer {t}"} for t in (ta, tb))
    sha, pdq, watched = secrets.token_hex(32), random_pdq(), secrets.token_hex(32)
    key = tmp_path / "signing.pem"
    with serve_exchange(db, key) as url:
        httpx.post(f"{url}/v1/records", headers=ha, json={"records": [{"sha256": sha, "pdq": pdq}]})
        httpx.post(f"{url}/v1/query", headers=hb, json={"queries": [{"id": 1, "sha256": watched}]})
    with serve_exchange(db, key) as url:
        found = httpx.post(
            f"{url}/v1/query",
            headers=hb,
            json={"queries": [{"id": "e", "sha256": sha}, {"id": "p", "pdq": flip(pdq, 20)}]},
        ).json()["results"]
        assert [[m["match"] for m in r["matches"]] for r in found] == [["sha256"], ["pdq"]]
        # B's watch from before the restart still routes A's new record to B's feed.
        httpx.post(f"{url}/v1/records", headers=ha, json={"records": [{"sha256": watched}]})
        feed = httpx.get(f"{url}/v1/changes", headers=hb).json()["changes"]
        assert [c["watched"] for c in feed] == [{"sha256": watched}]
