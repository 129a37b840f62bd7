"""The bulk push path (issue 11: 360,000 records in requests of 10,000): a whole batch's hashes
checked at once, ids assigned before the insert (SQLite `executemany`, PostgreSQL `COPY`), the
PDQ index taking the batch without merges. Same answers as record by record: a bad record is
refused by its index and names the field, never the value; a repeated push upserts; what was
acknowledged survives a kill -9 of the server."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from conftest import exchange_database, free_port, random_pdq
from tantalio.exchange import records
from tantalio.exchange.admin import create_agency
from tantalio.exchange.config import ExchangeConfig
from tantalio.exchange.records import BadInput
from tantalio.exchange.service import Caller, ExchangeService
from tantalio.store.exchange import ExchangeStore
from tantalio.store.exchange import audit as audit_log
from tantalio.store.exchange.models import ExchangeRecord

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _record(k: int) -> dict[str, Any]:
    return {
        "sha256": secrets.token_hex(32),
        "md5": secrets.token_hex(16),
        "pdq": random_pdq(),
        "pdq_quality": 90,
        "category": 3,
        "series": f"S{k % 7}",
        "case_ref": "case 1",
        "first_seen": "2026-11-30",
    }


def _service(db: str, tmp: Path) -> ExchangeService:
    svc = ExchangeService(ExchangeConfig(db_url=db, signing_key=str(tmp / "k.pem")))
    svc.start(background=False)
    return svc


def _caller(svc: ExchangeService, token: str) -> Caller:
    key = svc.keyring.authenticate(token)
    assert key is not None
    return Caller(key)


def _count(svc: ExchangeService, agency_id: int) -> int:
    with svc.store.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(ExchangeRecord)
                .where(ExchangeRecord.agency_id == agency_id)
            )
            or 0
        )


def test_batch_validation_answers_as_record_by_record() -> None:
    good = _record(1)
    odd: list[object] = [
        good,
        {**good, "sha256": good["sha256"].upper()},  # normalised, accepted
        {**good, "sha256": " " + good["sha256"]},  # stripped, accepted
        {**good, "sha256": "zz" * 32},
        {**good, "md5": good["md5"][:-1]},
        {**good, "pdq": 12},
        {**good, "sha256": None, "md5": None, "pdq": None},
        {**good, "pdq_quality": 101},
        {**good, "pdq_quality": True},
        {**good, "category": "3"},
        {**good, "status": "solved"},
        {**good, "status": None},
        {**good, "victim_identified": 1},
        {**good, "offender_identified": None},
        {**good, "series": "  "},
        {**good, "series": "x" * 300},
        {**good, "first_seen": "2026-02-30"},
        {**good, "first_seen": "2026-11-30T10:00:00Z"},
        {**good, "last_seen": ""},
        {**good, "vpdq": [random_pdq()]},
        {**good, "shared": {"note": "x"}},
        {**good, "shared": {}},
        {"sha1": secrets.token_hex(20)},
        {"pdq": random_pdq()},
        "not an object",
        None,
    ]
    parsed, refused = records.parse_records(odd)
    expected: list[dict[str, Any]] = []
    expected_refused: list[dict[str, Any]] = []
    for i, item in enumerate(odd):
        try:
            expected.append(records.parse_record(item).columns())
        except BadInput as exc:
            expected_refused.append({"index": i, "error": str(exc)})
    assert parsed == expected
    assert refused == expected_refused
    assert [r["index"] for r in refused] == [3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 24, 25]
    assert all("zz" not in r["error"] for r in refused)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_record_in_a_bulk_push_is_refused_alone_and_a_repush_upserts(
    backend: str, tmp_path: Path
) -> None:
    with exchange_database(backend, tmp_path) as db:
        token_a, agency_a, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
        token_b, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
        svc = _service(db, tmp_path)
        try:
            a, b = _caller(svc, token_a), _caller(svc, token_b)
            batch = [_record(k) for k in range(10_000)]
            batch[7_000] = {**batch[7_000], "sha256": "g" * 64}
            out = svc.push(a, {"records": batch})
            assert out["refused"] == [{"index": 7_000, "error": "sha256 must be 64 hex digits"}]
            assert (out["accepted"], out["created"], out["updated"]) == (9_999, 9_999, 0)
            assert _count(svc, agency_a.id) == 9_999
            # Ids were assigned before the insert: the index, the views and the database
            # agree on every record (B asks for a sample by SHA-256 and by PDQ).
            sample = [batch[k] for k in range(0, 10_000, 97) if k != 7_000]
            asked = [{"id": i, "sha256": r["sha256"]} for i, r in enumerate(sample)]
            asked += [{"id": -1 - i, "pdq": r["pdq"]} for i, r in enumerate(sample)]
            found = svc.query(b, {"queries": asked})["results"]
            by_id = {r["id"]: r["matches"] for r in found}
            for i, r in enumerate(sample):
                for key in (i, -1 - i):
                    assert [(m["agency"], m["series"]) for m in by_id[key]] == [("A", r["series"])]
            with svc.store.session() as s:
                rows = s.execute(
                    select(ExchangeRecord.id, ExchangeRecord.sha256, ExchangeRecord.series)
                ).all()
            assert len({r.id for r in rows}) == 9_999
            # The same batch again: nothing written; then 100 changed: updated in place.
            again = svc.push(a, {"records": batch})
            assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 9_999)
            for k in range(100):
                batch[k] = {**batch[k], "series": "moved"}
            moved = svc.push(a, {"records": batch})
            assert (moved["created"], moved["updated"], moved["unchanged"]) == (0, 100, 9_899)
            with svc.store.session() as s:
                after = dict(s.execute(select(ExchangeRecord.sha256, ExchangeRecord.id)).all())
            assert after == {r.sha256: r.id for r in rows}  # same ids, nothing new
            hit = svc.query(b, {"queries": [{"id": "x", "sha256": batch[0]["sha256"]}]})
            assert hit["results"][0]["matches"][0]["series"] == "moved"
            # A new push continues the ids (the SQLite counter moved past the given ones).
            fresh = svc.push(a, {"records": [_record(k) for k in range(3_000)]})
            assert fresh["created"] == 3_000 and _count(svc, agency_a.id) == 12_999
            with svc.store.session() as s:
                assert audit_log.verify(s).ok
        finally:
            svc.close()


def _serve(db: str, tmp: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANTALIO_EXCHANGE")}
    cmd = [sys.executable, "-m", "tantalio.cli.main", "exchange", "serve", "--db", db]
    cmd += ["--port", str(port), "--signing-key", str(tmp / "k.pem")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 240
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/status", timeout=2)
            return proc
        except httpx.TransportError:
            assert proc.poll() is None and time.time() < deadline, "exchange serve did not start"
            time.sleep(0.2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_during_bulk_pushes_loses_nothing_acknowledged(backend: str, tmp_path: Path) -> None:
    with exchange_database(backend, tmp_path) as db:
        token, agency, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
        port = free_port()
        proc = _serve(db, tmp_path, port)
        acknowledged: list[list[dict[str, Any]]] = []
        stop = threading.Event()

        def pusher() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
                while not stop.is_set():
                    batch = [_record(k) for k in range(4_000)]
                    try:
                        r = c.post("/v1/records", json={"records": batch}, timeout=120)
                    except httpx.TransportError:
                        return
                    if r.status_code != 200:
                        return
                    assert r.json()["created"] == 4_000
                    acknowledged.append(batch)

        thread = threading.Thread(target=pusher)
        thread.start()
        try:
            deadline = time.time() + 180
            while len(acknowledged) < 2 and time.time() < deadline:
                time.sleep(0.05)
            assert len(acknowledged) >= 2, "no push was acknowledged"
            proc.send_signal(signal.SIGKILL)  # mid-push: the next request is in flight
            proc.wait(30)
        finally:
            stop.set()
            thread.join(120)
            if proc.poll() is None:
                proc.kill()
        store = ExchangeStore(db)
        try:
            with store.session() as s:
                stored = set(
                    s.scalars(
                        select(ExchangeRecord.sha256).where(ExchangeRecord.agency_id == agency.id)
                    )
                )
                assert audit_log.verify(s).ok
        finally:
            store.close()
        wanted = {r["sha256"] for batch in acknowledged for r in batch}
        assert wanted <= stored
        assert len(stored) % 4_000 == 0  # a request is stored whole or not at all
        # The restarted server serves every acknowledged record and can take more.
        proc = _serve(db, tmp_path, port)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
                r = c.post("/v1/records", json={"records": [_record(k) for k in range(5)]})
                assert r.status_code == 200 and r.json()["created"] == 5
        finally:
            proc.terminate()
            proc.wait(30)
