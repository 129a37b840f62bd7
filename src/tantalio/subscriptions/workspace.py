"""A workspace's subscribed hash sets: subscribe, pull, and retroactive triage.

When a pulled delta adds entries, every earlier case is re-matched for those entries only
(`match_hash_set(..., after_entry_id=…)`); when it retracts entries, their matches go. Both
refresh the verdicts of the media touched, and every file whose verdict changed is reported:
in the pull's result (the CLI summary), as a dashboard notice per case, and in the audit log.
Each delta is applied with the subscription's new position in one transaction.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

from tantalio.hashsets import deltas
from tantalio.hashsets.record import ParseWarning
from tantalio.hashsets.signed import load_public_key
from tantalio.store import audit as store_audit
from tantalio.store import repo
from tantalio.store import subscriptions as store
from tantalio.store.workspace import Workspace
from tantalio.subscriptions.sources import DeltaSource, SourceError, canonical_source, open_source
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.matching import match_hash_set
from tantalio.triage.retro_local import VerdictChange, refresh_and_report

FORMAT = "tantalio-delta"


class SubscriptionError(RuntimeError):
    """A subscription that cannot be made or pulled; the message says why."""


@dataclass(slots=True)
class AppliedDelta:
    seq: int
    added: int
    retracted: int
    changes: list[VerdictChange] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)


@dataclass(slots=True)
class PullResult:
    name: str
    list_name: str
    start_seq: int
    seq: int
    applied: list[AppliedDelta] = field(default_factory=list)
    error: str | None = None

    @property
    def changes(self) -> list[VerdictChange]:
        return [c for d in self.applied for c in d.changes]


def public_key_pem(path: str | Path) -> str:
    """The Ed25519 public key at `path` as PEM text (what a subscription pins)."""
    try:
        key = load_public_key(Path(path))
    except (OSError, ValueError) as exc:
        raise SubscriptionError(f"{path}: not an Ed25519 public key ({exc})") from None
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def subscribe(
    ws: Workspace,
    source: str,
    name: str,
    trusted_key: str | Path,
    *,
    kind: str = "known-bad",
    list_name: str | None = None,
    key: str | None = None,
    user: str | None = None,
) -> None:
    """Create hash set `name` fed by the list at `source`, pinning the issuer's key.
    The list name is the URL's last segment, or what the folder's deltas say."""
    pem = public_key_pem(trusted_key)
    source = canonical_source(source)
    try:
        src = open_source(source, key=key)
        list_name = list_name or src.list_name()
    except SourceError as exc:
        raise SubscriptionError(str(exc)) from None
    if not list_name:
        raise SubscriptionError(f"{source}: cannot tell the list's name; give --list")
    with ws.transaction() as session:
        hash_set = repo.create_hash_set(session, name, [], kind=kind, format=FORMAT, source=source)
        store.add_subscription(session, hash_set, source, list_name, pem)
        store_audit.audit(
            session,
            "hashset.subscribe",
            username=user or _os_user(),
            object_type="hash_set",
            object_id=name,
            detail={"source": source, "list": list_name, "kind": kind, "key": _key_id(pem)},
        )


def _key_id(pem: str) -> str:
    from tantalio.hashsets.signed import key_id

    return key_id(load_public_key(pem.encode("ascii")))


def _os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def pull(
    ws: Workspace,
    name: str | None = None,
    *,
    key: str | None = None,
    user: str | None = None,
    source_override: DeltaSource | None = None,
) -> list[PullResult]:
    """Pull every subscription (or the one named); a refused delta stops that list at the
    delta before it (reported in `PullResult.error`), never the other lists."""
    with ws.session() as session:
        subs = [
            (sub.id, hs.name, sub.source, sub.list_name, sub.last_seq)
            for sub, hs in store.list_subscriptions(session)
            if name is None or hs.name == name
        ]
    if name is not None and not subs:
        raise SubscriptionError(
            f"no subscribed hash set {name!r} (see `tantalio hashset subscriptions`)"
        )
    results = []
    for sub_id, set_name, source, list_name, last_seq in subs:
        result = PullResult(set_name, list_name, last_seq, last_seq)
        try:
            src = source_override or open_source(source, key=key)
            documents = src.fetch(last_seq)
        except SourceError as exc:
            result.error = str(exc)
            _record_error(ws, sub_id, result.error, user=user, refused=False)
            results.append(result)
            continue
        indexes = WorkspaceIndexes(ws)
        for i, document in enumerate(documents):
            try:
                applied = _apply(
                    ws,
                    indexes,
                    sub_id,
                    document,
                    last=i == len(documents) - 1,
                    user=user or _os_user(),
                    where=f"{src.description} (delta {i + 1} of {len(documents)})",
                )
            except deltas.DeltaReplayError:
                continue  # applied meanwhile by another pull of the same list
            except deltas.SignedListError as exc:
                result.error = str(exc)
                _record_error(ws, sub_id, result.error, user=user, refused=True)
                break
            if applied is not None:
                result.applied.append(applied)
                result.seq = applied.seq
        indexes.save()
        results.append(result)
    return results


def _record_error(
    ws: Workspace, sub_id: int, error: str, *, user: str | None, refused: bool
) -> None:
    """Keep the error on the subscription and audit it: a delta refused by its signature,
    sequence or expiry (a tampered, replayed, forked or stale list) is `hashset.pull.refused`,
    a source that could not be read `hashset.pull.failed`. Nothing of the list changes."""
    with ws.transaction() as session:
        sub = store.lock_subscription(session, sub_id)
        if sub is None:
            return
        sub.last_error = error[:2000]
        store_audit.audit(
            session,
            "hashset.pull.refused" if refused else "hashset.pull.failed",
            username=user or _os_user(),
            object_type="hash_set",
            object_id=repo.get_hash_set_by_id(session, sub.hash_set_id).name,
            detail={"list": sub.list_name, "seq": sub.last_seq, "error": error[:500]},
        )


def _apply(
    ws: Workspace,
    indexes: WorkspaceIndexes,
    sub_id: int,
    document: bytes,
    *,
    last: bool,
    user: str,
    where: str,
) -> AppliedDelta | None:
    with ws.transaction() as session:
        sub = store.lock_subscription(session, sub_id)
        if sub is None:
            return None
        state = deltas.SubscriptionState(sub.list_name, sub.last_seq, sub.last_digest)
        delta = deltas.verify_delta(
            document, [sub.trusted_key.encode("ascii")], state, check_expiry=last, source=where
        )
        set_id = sub.hash_set_id
        hashes = [
            {a: v for a, v in e.hashes().items() if a != "photodna"}
            for e in delta.retract
            if e.md5 or e.sha1 or e.sha256 or e.pdq
        ]
        gone = store.retractable_entries(session, set_id, hashes)
        videos = [e.vpdq for e in delta.retract if e.vpdq and not e.hashes()]
        gone += store.retractable_video_entries(session, set_id, [v for v in videos if v])
        lost = store.delete_entries(session, set_id, sorted(set(gone))) if gone else []
        if gone:
            indexes.drop_entries()
        before_id = store.max_entry_id(session, set_id)
        store.append_entries(session, set_id, delta.add)
        matched = match_hash_set(session, indexes, set_id, after_entry_id=before_id)
        affected = set(matched) | set(lost)
        set_name = repo.get_hash_set_by_id(session, set_id).name
        changes = refresh_and_report(
            session,
            affected,
            set_name,
            "hashset-pull",
            f"List update {set_name!r} (delta {delta.seq})",
            {"seq": delta.seq},
        )
        applied = AppliedDelta(delta.seq, len(delta.add), len(set(gone)), changes, delta.warnings)
        store_audit.audit(
            session,
            "hashset.pull",
            username=user,
            object_type="hash_set",
            object_id=set_name,
            detail={
                "list": delta.list_name,
                "seq": delta.seq,
                "digest": delta.digest,
                "key": delta.key_id,
                "added": applied.added,
                "retracted": applied.retracted,
                "verdicts_changed": len(changes),
            },
        )
        store.advance(session, sub, delta.seq, delta.digest)
    return applied
