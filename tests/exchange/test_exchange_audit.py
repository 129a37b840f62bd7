"""The exchange's audit chain is verified by the workspace's walker (`store.audit.walk_chain`):
an intact chain passes; an edited, a deleted and a deleted newest event are each named."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tantalio.store.exchange import ExchangeStore
from tantalio.store.exchange import audit as audit_log


def _store_with_events(tmp_path: Path, n: int) -> ExchangeStore:
    store = ExchangeStore(f"sqlite:///{tmp_path / 'ex.db'}")
    for i in range(n):
        with store.transaction() as s:
            audit_log.append(s, "query", agency="A", key_id=1, detail={"queries": i})
    return store


def test_intact_chain_verifies_in_small_batches(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 12)
    with store.session() as s:
        result = audit_log.verify(s, batch=5)
    assert result.ok and result.events == 12 and result.head_seq == 12
    store.close()


def test_edited_deleted_and_truncated_events_are_named(tmp_path: Path) -> None:
    store = _store_with_events(tmp_path, 8)
    with store.transaction() as s:
        s.execute(text("UPDATE exchange_audit_events SET agency = 'B' WHERE seq = 2"))
        s.execute(text("DELETE FROM exchange_audit_events WHERE seq = 5"))
        s.execute(text("DELETE FROM exchange_audit_events WHERE seq = 8"))
    with store.session() as s:
        result = audit_log.verify(s, batch=3)
    assert result.events == 6
    assert "event 2: content does not match its hash (edited)" in result.problems
    assert "events 5..5 are missing" in result.problems
    assert "event 6: link to the previous event is broken" in result.problems
    assert any("the newest event is 7 but the head names 8" in p for p in result.problems)
    store.close()
