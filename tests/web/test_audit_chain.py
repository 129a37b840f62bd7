"""The audit log is append-only and hash-chained: verify catches edits and deletions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tantalio.store import audit as store_audit
from tantalio.store.workspace import Workspace


def _append(ws: Workspace, n: int) -> None:
    with ws.transaction() as db:
        for i in range(n):
            store_audit.audit(
                db,
                "media.reveal",
                username="erin",
                object_type="media",
                object_id=i,
                detail={"case": "C-1", "i": i},
            )


def _drop_triggers(ws: Workspace) -> None:
    """What an attacker with the database owner's rights would do first."""
    with ws.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_change ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_intact_chain_verifies(workspace: Workspace) -> None:
    _append(workspace, 25)
    with workspace.session() as db:
        result = store_audit.verify_audit_chain(db, batch=7)
    assert result.ok and result.events == 25 and result.head_seq == 25


def test_database_refuses_update_and_delete(workspace: Workspace) -> None:
    _append(workspace, 2)
    for sql in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), workspace.engine.begin() as conn:
            conn.execute(text(sql))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ('UPDATE audit_event SET detail = \'{"case":"C-2"}\' WHERE seq = 3', "event 3: content"),
        ("UPDATE audit_event SET username = 'otto' WHERE seq = 1", "event 1: content"),
        ("DELETE FROM audit_event WHERE seq = 4", "events 4..4 are missing"),
        ("DELETE FROM audit_event WHERE seq >= 9", "newest events deleted"),
    ],
)
def test_verify_detects_edits_and_deletions(
    workspace: Workspace, tamper: str, expected: str
) -> None:
    _append(workspace, 10)
    _drop_triggers(workspace)
    with workspace.engine.begin() as conn:
        conn.execute(text(tamper))
    with workspace.session() as db:
        result = store_audit.verify_audit_chain(db)
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


def test_concurrent_writers_keep_one_linear_chain(workspace: Workspace) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                _append(workspace, 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with workspace.session() as db:
        result = store_audit.verify_audit_chain(db)
    assert result.ok and result.events == 40


def test_listing_filters(workspace: Workspace) -> None:
    _append(workspace, 5)
    with workspace.transaction() as db:
        store_audit.audit(db, "user.create", username="admin", object_type="user", object_id=7)
    with workspace.session() as db:
        assert [e.seq for e in store_audit.list_audit_events(db, limit=2)] == [6, 5]
        assert [e.seq for e in store_audit.list_audit_events(db, before_seq=3)] == [2, 1]
        assert len(store_audit.list_audit_events(db, action="user.")) == 1
        assert len(store_audit.list_audit_events(db, username="ERIN")) == 5
        assert len(store_audit.list_audit_events(db, object_type="media", object_id="2")) == 1
