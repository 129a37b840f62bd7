"""Bank subscriptions in the platform database: state, and one delta applied atomically.

`apply_delta` removes the retracted entries, inserts the added ones, logs both to the index
change feed (so every serving process picks them up) and advances the subscription, in one
transaction: a crash leaves the bank at a delta boundary and a rerun resumes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update

from tantalio.store.platform import audit as platform_audit
from tantalio.store.platform.base import now
from tantalio.store.platform.models import PlatformBank, PlatformEntry, PlatformSubscription
from tantalio.store.platform.records import NewEntry
from tantalio.store.platform.repo import PlatformStore


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: int
    bank_id: int
    source: str
    list_name: str
    trusted_key: str
    last_seq: int
    last_digest: str
    last_error: str | None


def _record(s: PlatformSubscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        s.id, s.bank_id, s.source, s.list_name, s.trusted_key, s.last_seq, s.last_digest,
        s.last_error,
    )  # fmt: skip


def add_subscription(
    store: PlatformStore,
    bank_id: int,
    source: str,
    list_name: str,
    trusted_key_pem: str,
    *,
    actor: str | None = None,
) -> SubscriptionRecord:
    """Feed the bank from a list, pinning its issuer's key (audited as `bank.subscribe`)."""
    with store.session.begin() as s:
        row = PlatformSubscription(
            bank_id=bank_id,
            source=source,
            list_name=list_name,
            trusted_key=trusted_key_pem,
            created_at=now(),
        )
        s.add(row)
        s.flush()
        bank = s.get(PlatformBank, bank_id)
        platform_audit.append(
            s,
            "bank.subscribe",
            actor=actor,
            object_type="bank",
            object_id=bank.name if bank is not None else bank_id,
            detail={"list": list_name, "source": source},
        )
        return _record(row)


def subscriptions(store: PlatformStore) -> list[SubscriptionRecord]:
    with store.session() as s:
        rows = s.scalars(select(PlatformSubscription).order_by(PlatformSubscription.id))
        return [_record(r) for r in rows]


def record_error(
    store: PlatformStore,
    sub_id: int,
    error: str,
    *,
    refused: bool = False,
    actor: str | None = None,
) -> None:
    """Keep the error on the subscription and audit it, in one transaction: a delta refused
    by its signature, sequence or expiry (tampered, replayed, forked, stale) is
    `bank.pull.refused`, a source that could not be read `bank.pull.failed`. The event names
    the list, the sequence number the bank stays at and the error; the bank is unchanged."""
    with store.session.begin() as s:
        sub = s.scalar(
            select(PlatformSubscription).where(PlatformSubscription.id == sub_id).with_for_update()
        )
        if sub is None:
            return
        sub.last_error = error[:2000]
        bank = s.get(PlatformBank, sub.bank_id)
        platform_audit.append(
            s,
            "bank.pull.refused" if refused else "bank.pull.failed",
            actor=actor,
            object_type="bank",
            object_id=bank.name if bank is not None else sub.bank_id,
            detail={"list": sub.list_name, "seq": sub.last_seq, "error": error[:500]},
        )


class StaleState(RuntimeError):
    """Another process applied a delta of this list meanwhile; nothing was written."""


def apply_delta(
    store: PlatformStore,
    sub: SubscriptionRecord,
    seq: int,
    digest: str,
    add: Sequence[NewEntry],
    retract: Sequence[dict[str, str]],
    *,
    actor: str | None = None,
) -> tuple[int, int]:
    """Apply one verified delta; returns (added, removed)."""
    with store.session.begin() as s:
        current = s.scalar(
            select(PlatformSubscription).where(PlatformSubscription.id == sub.id).with_for_update()
        )
        if current is None or current.last_seq != sub.last_seq:
            raise StaleState(f"list {sub.list_name!r} moved on meanwhile; pull again")
        gone = _live_ids(s, sub.bank_id, retract)
        if gone:
            s.execute(
                update(PlatformEntry).where(PlatformEntry.id.in_(gone)).values(removed_at=now())
            )
            store._log(s, "remove", gone, sub.bank_id)
        added_at = now()
        rows = [store.entry_row(sub.bank_id, e, added_at) for e in add]
        ids: list[int] = []
        for i in range(0, len(rows), 1000):
            ids.extend(store._insert_entries(s, rows[i : i + 1000]))
        if ids:
            store._log(s, "add", ids, sub.bank_id)
        current.last_seq, current.last_digest = seq, digest
        current.last_pull_at, current.last_error = now(), None
        bank = s.get(PlatformBank, sub.bank_id)
        platform_audit.append(
            s,
            "bank.pull",
            actor=actor,
            object_type="bank",
            object_id=bank.name if bank is not None else sub.bank_id,
            detail={
                "list": sub.list_name,
                "from_seq": sub.last_seq,
                "seq": seq,
                "added": len(ids),
                "removed": len(gone),
            },
        )
    return len(ids), len(gone)


def _live_ids(s: Any, bank_id: int, retract: Sequence[dict[str, str]]) -> list[int]:
    ids: set[int] = set()
    for i in range(0, len(retract), 300):
        terms = [
            getattr(PlatformEntry, algo) == value
            for h in retract[i : i + 300]
            for algo, value in h.items()
            if algo in ("md5", "sha1", "sha256", "pdq") and value
        ]
        if terms:
            q = select(PlatformEntry.id).where(
                PlatformEntry.bank_id == bank_id,
                PlatformEntry.removed_at.is_(None),
                or_(*terms),
            )
            ids.update(int(x) for x in s.scalars(q))
    return sorted(ids)
