"""Platform banks fed by signed lists: `tantalio platform bank subscribe|pull`.

The same chain rules as a workspace subscription (`tantalio.hashsets.deltas`); each verified
delta is applied to the bank in one transaction and reaches every serving process through
the index change feed, so a running `platform serve` matches new entries without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.store.platform import subscriptions as store
from tantalio.store.platform.records import NewEntry
from tantalio.store.platform.repo import PlatformStore
from tantalio.subscriptions.sources import SourceError, canonical_source, open_source
from tantalio.subscriptions.workspace import SubscriptionError, public_key_pem


@dataclass(slots=True)
class BankPullResult:
    bank: str
    list_name: str
    start_seq: int
    seq: int
    added: int = 0
    removed: int = 0
    warnings: list[ParseWarning] = field(default_factory=list)
    error: str | None = None


def _new_entry(e: HashEntry, list_name: str) -> NewEntry:
    return NewEntry(
        md5=e.md5,
        sha1=e.sha1,
        sha256=e.sha256,
        pdq=e.pdq,
        vpdq=e.vpdq,
        photodna=e.photodna,
        category=e.category,
        source_category=e.source_category,
        source_list=list_name,
        original_id=e.original_id,
        source_added_at=e.added_at,
        meta={"series": e.series} if e.series else None,
    )


def subscribe_bank(
    platform: PlatformStore,
    bank_name: str,
    source: str,
    trusted_key: str,
    *,
    list_name: str | None = None,
    key: str | None = None,
    actor: str | None = None,
) -> None:
    bank = platform.get_bank(bank_name)
    if bank is None:
        raise SubscriptionError(f"no bank {bank_name!r} (create it with `platform bank create`)")
    pem = public_key_pem(trusted_key)
    source = canonical_source(source)
    try:
        list_name = list_name or open_source(source, key=key).list_name()
    except SourceError as exc:
        raise SubscriptionError(str(exc)) from None
    if not list_name:
        raise SubscriptionError(f"{source}: cannot tell the list's name; give --list")
    if any(s.bank_id == bank.id for s in store.subscriptions(platform)):
        raise SubscriptionError(f"bank {bank_name!r} is already subscribed to a list")
    store.add_subscription(platform, bank.id, source, list_name, pem, actor=actor)


def pull_banks(
    platform: PlatformStore,
    bank_name: str | None = None,
    *,
    key: str | None = None,
    actor: str | None = None,
) -> list[BankPullResult]:
    """Pull every subscribed bank (or `bank_name`'s). Each applied delta is audited as
    `bank.pull`, a refused one as `bank.pull.refused` and an unreadable source as
    `bank.pull.failed` (platform audit, `tantalio platform audit`); a refusal changes nothing."""
    banks = {b.id: b.name for b in platform.list_banks()}
    subs = [
        s
        for s in store.subscriptions(platform)
        if bank_name is None or banks.get(s.bank_id) == bank_name
    ]
    if bank_name is not None and not subs:
        raise SubscriptionError(f"bank {bank_name!r} is not subscribed to a list")
    results = []
    for sub in subs:
        result = BankPullResult(
            banks.get(sub.bank_id, "?"), sub.list_name, sub.last_seq, sub.last_seq
        )
        results.append(result)
        try:
            src = open_source(sub.source, key=key)
            documents = src.fetch(sub.last_seq)
        except SourceError as exc:
            result.error = str(exc)
            store.record_error(platform, sub.id, result.error, actor=actor)
            continue
        state = deltas.SubscriptionState(sub.list_name, sub.last_seq, sub.last_digest)
        current = sub
        for i, document in enumerate(documents):
            try:
                delta = deltas.verify_delta(
                    document,
                    [sub.trusted_key.encode("ascii")],
                    state,
                    check_expiry=i == len(documents) - 1,
                    source=f"{src.description} (delta {i + 1} of {len(documents)})",
                )
            except deltas.DeltaReplayError:
                continue
            except deltas.SignedListError as exc:
                result.error = str(exc)
                store.record_error(platform, sub.id, result.error, refused=True, actor=actor)
                break
            retract = [
                {a: v for a, v in e.hashes().items() if a != "photodna"} for e in delta.retract
            ]
            try:
                added, removed = store.apply_delta(
                    platform,
                    current,
                    delta.seq,
                    delta.digest,
                    [_new_entry(e, delta.list_name) for e in delta.add],
                    retract,
                    actor=actor,
                )
            except store.StaleState as exc:
                result.error = str(exc)
                break
            result.added += added
            result.removed += removed
            result.warnings += delta.warnings
            result.seq = delta.seq
            state = delta.next_state()
            current = store.SubscriptionRecord(
                sub.id, sub.bank_id, sub.source, sub.list_name, sub.trusted_key,
                delta.seq, delta.digest, None,
            )  # fmt: skip
    return results
