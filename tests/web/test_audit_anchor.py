"""External anchoring of the audit log (issue 14), on SQLite and PostgreSQL: truncation with
`audit_head` reset, and a whole chain recomputed without some events, both verify as intact
from the database alone and are caught by the signed checkpoints or an --expect head."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.store import audit as store_audit
from tantalio.store.auth import AuditEvent
from tantalio.store.workspace import Workspace

from .test_audit_chain import _append, _drop_triggers


def _verify(
    ws: Workspace, expect: list[tuple[int, str]] | None = None
) -> store_audit.AuditVerification:
    with ws.session() as db:
        return store_audit.verify_audit_chain(db, anchor=ws.anchor, expect=expect)


def _truncate(ws: Workspace, keep: int) -> None:
    """Delete the newest events and set the head back to the last one kept."""
    _drop_triggers(ws)
    with ws.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq > :k"), {"k": keep})
        digest = conn.execute(
            text("SELECT hash FROM audit_event WHERE seq = :k"), {"k": keep}
        ).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = :k, hash = :h"), {"k": keep, "h": digest})


def _rewrite_without(ws: Workspace, drop: set[int]) -> None:
    """Recompute the whole chain without some events: what an attacker with the database
    and tantalio's source would do."""
    _drop_triggers(ws)
    with ws.session() as db:
        rows = [
            (r.at, r.user_id, r.username, r.action, r.object_type, r.object_id, r.detail, r.ip)
            for r in db.query(AuditEvent).order_by(AuditEvent.seq)
            if r.seq not in drop
        ]
    with ws.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
        prev = store_audit.GENESIS_HASH
        for seq, row in enumerate(rows, start=1):
            digest = store_audit.event_hash(prev, seq, *row)
            conn.execute(
                text(
                    "INSERT INTO audit_event (seq, at, user_id, username, action, object_type,"
                    " object_id, detail, ip, prev_hash, hash) VALUES (:seq, :at, :uid, :name,"
                    " :action, :ot, :oid, :detail, :ip, :prev, :hash)"
                ),
                dict(
                    seq=seq,
                    at=row[0],
                    uid=row[1],
                    name=row[2],
                    action=row[3],
                    ot=row[4],
                    oid=row[5],
                    detail=row[6],
                    ip=row[7],
                    prev=prev,
                    hash=digest,
                ),  # fmt: skip
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": len(rows), "h": prev})


def test_each_commit_is_anchored_and_verifies(workspace: Workspace) -> None:
    for _ in range(3):
        _append(workspace, 2)
    assert workspace.anchor is not None
    lines = workspace.anchor.log_path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [2, 4, 6]
    result = _verify(workspace)
    assert result.ok, result.problems
    assert (result.head_seq, result.checkpoints, result.notes) == (6, 3, [])


def test_truncation_with_the_head_reset_is_detected(workspace: Workspace) -> None:
    _append(workspace, 5)
    _append(workspace, 5)
    _truncate(workspace, 7)
    with workspace.session() as db:
        assert store_audit.verify_audit_chain(db).ok  # the database alone cannot tell
    result = _verify(workspace)
    assert not result.ok
    assert any("ends at event 7" in p and "events 8..10 were deleted" in p for p in result.problems)


def test_a_recomputed_chain_is_detected_by_the_checkpoints(workspace: Workspace) -> None:
    for _ in range(4):
        _append(workspace, 3)
    with workspace.session() as db:
        head = store_audit.audit_head(db)
    _rewrite_without(workspace, {5})
    with workspace.session() as db:
        assert store_audit.verify_audit_chain(db).ok  # consistent chain, one event gone
    result = _verify(workspace)
    assert not result.ok
    assert any("event 6: hash" in p and "rewritten" in p for p in result.problems), result.problems
    assert any("ends at event 11" in p for p in result.problems)
    # the same, from a head printed in a report, without any checkpoint file
    workspace.anchor.log_path.unlink()  # type: ignore[union-attr]
    result = _verify(workspace, expect=[head])
    assert any("the expected head names event 12" in p for p in result.problems), result.problems


def test_an_edited_checkpoint_file_is_detected(workspace: Workspace) -> None:
    _append(workspace, 2)
    _append(workspace, 2)
    assert workspace.anchor is not None
    path = workspace.anchor.log_path
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"seq": 3}
    path.write_text("\n".join([lines[0], json.dumps(forged)]) + "\n")
    result = _verify(workspace)
    assert any("signature invalid" in p for p in result.problems), result.problems


def test_audit_verify_cli_prints_the_head_and_checks_expect(tmp_path: Path) -> None:
    runner = CliRunner()
    ws_dir = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws_dir)]).exit_code == 0
    assert (ws_dir / "anchor" / "audit-anchor.key").stat().st_mode & 0o777 == 0o600
    done = runner.invoke(app, ["user", "add", "ann", "--role", "admin", "-w", str(ws_dir)])
    assert done.exit_code == 0, done.output
    first = runner.invoke(app, ["audit", "verify", "-w", str(ws_dir)])
    assert first.exit_code == 0, first.output
    head = first.output.splitlines()[0].removeprefix("head: ")
    seq, digest = head.split(":")
    assert int(seq) >= 1 and len(digest) == 64
    assert "checkpoints: " in first.output
    again = runner.invoke(app, ["audit", "verify", "--expect", head, "-w", str(ws_dir)])
    assert again.exit_code == 0 and "audit log intact" in again.output
    wrong = runner.invoke(
        app, ["audit", "verify", "--expect", f"{seq}:{'0' * 64}", "-w", str(ws_dir)]
    )
    assert wrong.exit_code == 1 and "differs from" in wrong.output
    later = runner.invoke(
        app, ["audit", "verify", "--expect", f"{int(seq) + 5}:{digest}", "-w", str(ws_dir)]
    )
    assert later.exit_code == 1 and "were deleted" in later.output
    bad = runner.invoke(app, ["audit", "verify", "--expect", "nonsense", "-w", str(ws_dir)])
    assert bad.exit_code == 2
