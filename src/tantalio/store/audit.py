"""The append-only, hash-chained audit log: append, list, verify.

Each row's `hash` is SHA-256 over the previous row's hash and the row's content (canonical
JSON); `audit_head` names the sequence number and hash of the newest row, so deleting the
newest rows shows as well as editing or deleting any other. Appending first updates
`audit_head`, which takes the write lock on SQLite and a row lock on PostgreSQL: concurrent
writers queue and the chain stays linear (`prev_hash` is also unique, so a fork cannot be
written). The models live in `tantalio.store.auth`.

The chain alone cannot show a rewrite of the whole log, or its newest rows deleted with
`audit_head` set back: each commit that appended events therefore writes a signed checkpoint
of the new head outside the database (`store/anchor.py`), and `verify_audit_chain` checks the
log against those checkpoints and against a head the caller kept (`expect`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from tantalio.store.anchor import Anchor, write_checkpoint
from tantalio.store.auth import GENESIS_HASH, AuditEvent, AuditHead, User
from tantalio.store.timeutil import utcnow


def canonical_json(value: Any) -> str:
    return json.dumps(
        value or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    user_id: int | None,
    username: str | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: str,
    ip: str | None,
) -> str:
    body = canonical_json(
        [
            seq,
            at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            user_id,
            username,
            action,
            object_type,
            object_id,
            detail,
            ip,
        ]
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts outside a web session (the CLI): `username` as the log shows it
    (`cli:<OS login>`, the identity the operating system vouches for) and the examiner named
    with `--as`, recorded beside it in the event's detail as `as` (a claim, not a login)."""

    username: str
    on_behalf_of: str | None = None

    def detail(self, detail: dict[str, Any] | None) -> dict[str, Any]:
        out = {"via": "cli", **(detail or {})}
        if self.on_behalf_of:
            out["as"] = self.on_behalf_of
        return out


def audit_actor(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """`audit` for an action done by `actor` (see `Actor`)."""
    return audit(
        session,
        action,
        username=actor.username,
        object_type=object_type,
        object_id=object_id,
        detail=actor.detail(detail),
    )


@dataclass(frozen=True, slots=True)
class Chain:
    """One hash-chained event table and its head row. The workspace's, the exchange's
    (store/exchange/audit.py) and the platform's (store/platform/audit.py) chains are this
    one mechanism on their own tables; they differ only in which two columns name who acted
    (an id and a name: user, API key, agency or actor)."""

    event_model: Any
    head_model: Any
    who_id: str
    who_name: str

    def append(
        self,
        session: Session,
        action: str,
        *,
        who_id: int | None,
        who_name: str | None,
        object_type: str | None,
        object_id: str | None,
        detail: dict[str, Any] | None,
        ip: str | None,
    ) -> Any:
        """Append one event in the caller's transaction (it commits with what it records).
        Updating the head row first takes the write lock (SQLite) or the row lock
        (PostgreSQL), so concurrent writers queue and the chain stays linear."""
        head_model = self.head_model
        locked = session.execute(
            update(head_model).where(head_model.id == 1).values(seq=head_model.seq)
        )
        if locked.rowcount == 0:  # type: ignore[attr-defined]
            session.add(head_model(id=1, seq=0, hash=GENESIS_HASH))
            session.flush()
        head = session.execute(
            select(head_model.seq, head_model.hash).where(head_model.id == 1)
        ).one()
        seq, prev = head.seq + 1, head.hash
        at = utcnow()
        text = canonical_json(detail)
        digest = event_hash(
            prev, seq, at, who_id, who_name, action, object_type, object_id, text, ip
        )
        row = self.event_model(
            seq=seq,
            at=at,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=text,
            ip=ip,
            prev_hash=prev,
            hash=digest,
            **{self.who_id: who_id, self.who_name: who_name},
        )
        session.add(row)
        session.execute(update(head_model).where(head_model.id == 1).values(seq=seq, hash=digest))
        session.flush()
        return row

    def digest(self, row: Any) -> str:
        """The hash a stored row must carry, recomputed from its columns."""
        return event_hash(
            row.prev_hash,
            row.seq,
            row.at,
            getattr(row, self.who_id),
            getattr(row, self.who_name),
            row.action,
            row.object_type,
            row.object_id,
            row.detail,
            row.ip,
        )

    def verify(self, session: Session, batch: int = 5000) -> AuditVerification:
        """Walk the chain and check its head: an edited row breaks its own hash, a deleted
        one the sequence and the next link, deleted newest rows the head."""
        result = AuditVerification()
        last, prev = walk_chain(session, self.event_model, self.digest, result, batch)
        head = session.get(self.head_model, 1)
        result.head_seq = head.seq if head else 0
        result.head_hash = head.hash if head else GENESIS_HASH
        check_head(head, last, prev, result)
        return result

    def events(self, session: Session, action: str | None, limit: int) -> list[Any]:
        """Newest first; `action` matches a prefix ("bank." lists every bank event)."""
        model = self.event_model
        query = select(model).order_by(model.seq.desc()).limit(limit)
        if action:
            query = query.where(model.action.startswith(action, autoescape=True))
        return list(session.scalars(query))


def audit(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    username: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits with the action it records)."""
    row: AuditEvent = WORKSPACE_CHAIN.append(
        session,
        action,
        who_id=user.id if user is not None else None,
        who_name=user.username if user is not None else username,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
        ip=ip,
    )
    session.info["audit_pending"] = (row.seq, row.hash)  # anchored once the transaction commits
    return row


@event.listens_for(Session, "after_commit")
def _anchor_committed_head(session: Session) -> None:
    pending = session.info.pop("audit_pending", None)
    if pending is not None:
        write_checkpoint(session.info.get("audit_anchor"), *pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_head(session: Session) -> None:
    session.info.pop("audit_pending", None)


def audit_head(session: Session) -> tuple[int, str]:
    """The newest event's sequence number and hash (0 and the genesis hash when empty), as
    printed in reports and exports so a copy of it outlives the database."""
    head = session.get(AuditHead, 1)
    return (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as `audit verify` prints it; ValueError naming the problem."""
    seq, sep, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not sep or not seq.isdigit() or len(digest) != 64 or not _is_hex(digest):
        raise ValueError(f"{text!r}: expected SEQ:HASH (a number, a colon, 64 hex digits)")
    return int(seq), digest


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@dataclass(slots=True)
class AuditVerification:
    """Result of walking the chain; `problems` names each broken row by sequence number."""

    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    checkpoints: int = 0  # signed checkpoints checked
    anchor: str | None = None  # where they are, or None when this workspace has none
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not tampering, but worth knowing

    @property
    def ok(self) -> bool:
        return not self.problems


def walk_chain(
    session: Session,
    model: Any,
    digest: Callable[[Any], str],
    result: AuditVerification,
    batch: int = 5000,
    *,
    on_row: Callable[[Any], None] | None = None,
) -> tuple[int, str]:
    """Walk a hash-chained event table (`seq`, `prev_hash`, `hash` columns) in order,
    recomputing each row's hash with `digest(row)`: an edited row breaks its own hash, a
    deleted row the sequence and the next row's link. Problems and the count go to `result`;
    `on_row` sees each row after its checks. Returns the last (seq, hash) walked. The
    workspace's chain and the exchange's (store/exchange/audit.py) share this walker: they
    differ only in their table and in which columns a digest covers."""
    prev, expected_seq, last = GENESIS_HASH, 1, 0
    while True:
        rows = list(
            session.scalars(select(model).where(model.seq > last).order_by(model.seq).limit(batch))
        )
        if not rows:
            return last, prev
        for row in rows:
            result.events += 1
            if row.seq != expected_seq:
                result.problems.append(f"events {expected_seq}..{row.seq - 1} are missing")
            if row.prev_hash != prev:
                result.problems.append(f"event {row.seq}: link to the previous event is broken")
            if digest(row) != row.hash:
                result.problems.append(f"event {row.seq}: content does not match its hash (edited)")
            if on_row is not None:
                on_row(row)
            prev, expected_seq, last = row.hash, row.seq + 1, row.seq


def check_head(head: Any, last: int, prev: str, result: AuditVerification) -> None:
    """The head row (seq, hash) must name the newest event walked: deleted or edited newest
    events disagree with it."""
    if head is not None and (head.seq != last or head.hash != prev):
        result.problems.append(
            f"the newest event is {last} but the head names {head.seq}: "
            "newest events deleted or edited"
        )
    if head is None and result.events:
        result.problems.append("the audit head row is missing")


def verify_audit_chain(
    session: Session,
    batch: int = 5000,
    *,
    anchor: Anchor | None = None,
    expect: list[tuple[int, str]] | None = None,
) -> AuditVerification:
    """Recompute every hash in order: an edited row breaks its own hash, a deleted row breaks
    the sequence and the next row's link, deleted newest rows disagree with `audit_head`.
    Then each signed checkpoint in `anchor`, and each head in `expect` (kept elsewhere: a
    report, an export, a note), must name an event the log still holds with the same hash:
    a truncated log ends before one, a rewritten one holds another hash there."""
    result = AuditVerification()
    checkpoints, anchor_problems = anchor.read() if anchor is not None else ([], [])
    wanted: dict[int, list[tuple[str, str]]] = {}  # seq -> (hash, where it was kept)
    for cp in checkpoints:
        if not cp.valid:
            anchor_problems.append(
                f"checkpoint line {cp.line} (event {cp.seq}): signature invalid or by another "
                f"key ({cp.key_id}): the checkpoint file was edited"
            )
            continue
        wanted.setdefault(cp.seq, []).append((cp.hash, f"checkpoint signed {cp.at}"))
    for seq, digest in expect or []:
        wanted.setdefault(seq, []).append((digest, "the expected head"))
    result.checkpoints = len(checkpoints)
    result.anchor = None if anchor is None else str(anchor.log_path)

    def kept_heads(row: AuditEvent) -> None:
        for kept, where in wanted.pop(row.seq, []):
            if kept != row.hash:
                result.problems.append(
                    f"event {row.seq}: hash {row.hash[:16]}… differs from {kept[:16]}… in "
                    f"{where}: the log was rewritten from there on"
                )

    last, prev = walk_chain(
        session, AuditEvent, WORKSPACE_CHAIN.digest, result, batch, on_row=kept_heads
    )
    head = session.get(AuditHead, 1)
    result.head_seq = head.seq if head else 0
    result.head_hash = head.hash if head else GENESIS_HASH
    for seq in sorted(s for s in wanted if s > last):
        where = wanted[seq][0][1]
        result.problems.append(
            f"the log ends at event {last} but {where} names event {seq}: "
            f"events {last + 1}..{seq} were deleted"
        )
    for seq in sorted(s for s in wanted if 0 < s <= last):
        result.problems.append(f"event {seq}, named in {wanted[seq][0][1]}, is missing")
    result.problems += anchor_problems
    if anchor is None:
        result.notes.append(
            "no audit anchor for this workspace (set TANTALIO_AUDIT_ANCHOR): "
            "truncation and rewriting are not detectable"
        )
    elif result.events and checkpoints:
        newest = (
            max(cp.seq for cp in checkpoints if cp.valid)
            if any(cp.valid for cp in checkpoints)
            else 0
        )
        if newest < last:
            result.notes.append(
                f"events {newest + 1}..{last} are newer than the last checkpoint "
                "(not anchored yet; a checkpoint write failed, or they were added outside tantalio)"
            )
    elif result.events:
        result.notes.append(f"no checkpoints in {anchor.log_path}: nothing anchors this log")
    check_head(head, last, prev, result)
    return result


def list_audit_events(
    session: Session,
    *,
    username: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first; page on with `before_seq` = the last row's seq. `action` matches a prefix
    ("user." lists every user change)."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if username:
        query = query.where(AuditEvent.username == username.strip().lower())
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.scalars(query))


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


WORKSPACE_CHAIN = Chain(AuditEvent, AuditHead, who_id="user_id", who_name="username")
