"""The exchange's index snapshot (exchange/snapshot.py): a restart loads it and replays what
changed after it, answering as a fresh rebuild from the database would; a snapshot that is
missing, of another database, corrupt or ahead of the database is rebuilt and the log says
why; retracted records never come back."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import exchange_database, flip, random_pdq
from tantalio.exchange.admin import create_agency
from tantalio.exchange.config import ExchangeConfig
from tantalio.exchange.service import Caller, ExchangeService


def _caller(svc: ExchangeService, token: str) -> Caller:
    key = svc.keyring.authenticate(token)
    assert key is not None
    return Caller(key)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with exchange_database(request.param, tmp_path) as url:
        yield url


class Box:
    """A service over `db` with its snapshot in `index_dir`; started, closed on `stop`."""

    def __init__(self, db: str, tmp: Path, index_dir: Path | None = None) -> None:
        self.db, self.tmp = db, tmp
        self.index_dir = index_dir or tmp / "index"
        self.svc: ExchangeService | None = None

    def start(self, index_dir: Path | str | None = None) -> ExchangeService:
        where = self.index_dir if index_dir is None else index_dir
        cfg = ExchangeConfig(
            db_url=self.db, signing_key=str(self.tmp / "k.pem"), index_dir=str(where)
        )
        self.svc = ExchangeService(cfg)
        self.svc.start(background=False)
        return self.svc

    def stop(self) -> None:
        assert self.svc is not None
        self.svc.close()
        self.svc = None


def _answers(svc: ExchangeService, caller: Caller, queries: list[dict[str, str]]) -> list:
    out = svc.query(caller, {"queries": queries})["results"]
    return [
        sorted((m["agency"], m["match"], m["distance"], m["series"]) for m in r["matches"])
        for r in out
    ]


def _records(n: int) -> list[dict[str, object]]:
    return [
        {"sha256": secrets.token_hex(32), "pdq": random_pdq(), "pdq_quality": 90, "series": f"S{i}"}
        for i in range(n)
    ]


def test_restart_from_snapshot_answers_as_a_rebuild(
    db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ta, _, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
    tb, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
    box = Box(db, tmp_path)
    svc = box.start()
    assert svc.index_source == "rebuilt"
    a = _caller(svc, ta)
    first = _records(40)
    svc.push(a, {"records": first})
    box.stop()  # saves the snapshot
    header = json.loads((box.index_dir / "snapshot.json").read_text())
    assert header["record_id"] >= 40 and header["files"]

    # Changes after the snapshot, made by another server run without snapshots: new
    # records, a changed PDQ, a retraction.
    other = Box(db, tmp_path)
    svc = other.start(index_dir="")
    a = _caller(svc, ta)
    later = _records(5)
    svc.push(a, {"records": later})
    moved = {**first[1], "pdq": random_pdq()}
    svc.push(a, {"records": [moved]})
    svc.retract(a, {"records": [{"sha256": first[0]["sha256"]}]})
    other.stop()

    queries = [
        {"id": "gone", "sha256": str(first[0]["sha256"])},
        {"id": "gone-pdq", "pdq": flip(str(first[0]["pdq"]), 5)},
        {"id": "old-pdq", "pdq": flip(str(first[1]["pdq"]), 3)},
        {"id": "new-pdq", "pdq": flip(str(moved["pdq"]), 3)},
        {"id": "later", "sha256": str(later[2]["sha256"])},
        {"id": "kept", "pdq": flip(str(first[7]["pdq"]), 30)},
    ]
    caplog.set_level(logging.INFO, logger="tantalio.exchange")
    svc = box.start()
    assert svc.index_source == "snapshot"
    assert "replayed 5 new and 2 changed records" in caplog.text
    from_snapshot = _answers(svc, _caller(svc, tb), queries)
    box.stop()
    svc = Box(db, tmp_path).start(index_dir="")
    rebuilt = _answers(svc, _caller(svc, tb), queries)
    svc.close()
    assert from_snapshot == rebuilt
    assert from_snapshot == [
        [],
        [],
        [],
        [("A", "pdq", 3, "S1")],
        [("A", "sha256", 0, "S2")],
        [("A", "pdq", 30, "S7")],
    ]


def test_retracted_records_never_come_back_after_restarts(db: str, tmp_path: Path) -> None:
    ta, _, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
    tb, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
    box = Box(db, tmp_path)
    svc = box.start()
    recs = _records(3)
    svc.push(_caller(svc, ta), {"records": recs})
    box.stop()
    svc = box.start()
    assert svc.index_source == "snapshot"
    assert (
        svc.retract(_caller(svc, ta), {"records": [{"sha256": recs[0]["sha256"]}]})["retracted"]
        == 1
    )
    box.stop()  # the snapshot saved now no longer holds it; the index log is pruned
    for _ in range(2):
        svc = box.start()
        assert svc.index_source == "snapshot"
        got = _answers(svc, _caller(svc, tb), [{"id": 1, "pdq": str(recs[0]["pdq"])}])
        assert got == [[]]
        assert len(svc.index.pdq) == 2
        box.stop()


@pytest.mark.parametrize("damage", ["corrupt", "foreign", "ahead", "missing-file"])
def test_a_snapshot_that_does_not_match_is_rebuilt_and_reported(
    damage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    ta, _, _ = create_agency(db, "A", "DE", "a", ["push", "query"], 1e6, 10**6)
    tb, _, _ = create_agency(db, "B", "FR", "b", ["push", "query"], 1e6, 10**6)
    box = Box(db, tmp_path)
    svc = box.start()
    recs = _records(10)
    svc.push(_caller(svc, ta), {"records": recs})
    box.stop()
    header_file = box.index_dir / "snapshot.json"
    header = json.loads(header_file.read_text())
    if damage == "corrupt":
        words = box.index_dir / "pdq" / "seg0.words.npy"
        if not words.exists():
            words = next((box.index_dir / "pdq").glob("tail.words.npy"))
        raw = bytearray(words.read_bytes())
        raw[-1] ^= 0xFF
        words.write_bytes(bytes(raw))
        reason = "checksum mismatch"
    elif damage == "foreign":
        header["database_id"] = "0" * 32
        header_file.write_text(json.dumps(header))
        reason = "snapshot of another database"
    elif damage == "ahead":
        header["record_id"] += 1000
        header_file.write_text(json.dumps(header))
        reason = "ahead of the database"
    else:
        (box.index_dir / "exact" / "index.json").unlink()
        reason = "files differ from its header"
    caplog.set_level(logging.INFO, logger="tantalio.exchange")
    svc = box.start()
    assert svc.index_source == "rebuilt"
    assert "exchange index snapshot not used" in caplog.text and reason in caplog.text
    got = _answers(svc, _caller(svc, tb), [{"id": 1, "pdq": flip(str(recs[4]["pdq"]), 12)}])
    assert got == [[("A", "pdq", 12, "S4")]]
    box.stop()  # a good snapshot again
    assert box.start().index_source == "snapshot"
    box.stop()


def test_where_the_snapshot_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tantalio.exchange.config import INDEX_DIR_ENV, default_index_dir

    monkeypatch.delenv(INDEX_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_index_dir(f"sqlite:///{tmp_path / 'ex.db'}") == tmp_path / "ex.db.index"
    assert default_index_dir("sqlite:///:memory:") is None
    a = default_index_dir("postgresql+psycopg://u@db.example:5432/exchange")
    b = default_index_dir("postgresql+psycopg://u@db.example:5432/other")
    assert a is not None and b is not None and a != b
    assert a.parent == tmp_path / "cache" / "tantalio" / "exchange-index"
    assert a.name.startswith("db.example-5432-exchange-")
    monkeypatch.setenv(INDEX_DIR_ENV, "")
    assert default_index_dir(f"sqlite:///{tmp_path / 'ex.db'}") is None
    monkeypatch.setenv(INDEX_DIR_ENV, str(tmp_path / "here"))
    assert default_index_dir("postgresql+psycopg://u@h/x") == tmp_path / "here"
