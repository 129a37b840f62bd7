"""Signed list *deltas*: how a central exchange distributes a list Baseline-style, one change
at a time, so a subscriber fetches only what is new (issue #11).

A subscription is a chain of deltas of one list. Each delta is Ed25519-signed and carries its
sequence number, the digest of the delta before it, an expiry, the entries it adds and the
entries it retracts. A subscriber keeps `SubscriptionState` (last sequence and digest) and
accepts a delta only when it is the next link of that chain:

- a sequence number lower than or equal to the last one is a *replay* (`DeltaReplayError`);
- a higher one that is not last + 1 is a *gap* (`DeltaGapError`: a delta was withheld);
- the right number whose `prev_digest` differs is a *fork* (`DeltaChainError`: the issuer, or
  someone holding its key, published two different histories);
- an expired delta (`expires` in the past) is refused (`DeltaExpiredError`), so a stale
  mirror cannot hold a subscriber at an old state without it noticing.

Document (UTF-8 JSON):

    {"format": "tantalio-signed-delta",
     "payload": {"format": "tantalio-signed-delta", "version": 1, "list": NAME,
                 "issuer": ..., "seq": N, "prev_digest": <64 hex or "">,
                 "created": ISO-Z, "expires": ISO-Z,
                 "add": [entry, ...], "retract": [entry, ...]},
     "signature": {"algorithm": "ed25519", "key_id": <16 hex>, "value": <base64>}}

Entries are written as `signed.entry_to_dict` writes them. A retraction names an entry by its
hashes (any of md5/sha1/sha256/pdq/vpdq); the subscriber removes the entry that carries them.
The signature covers `DOMAIN + canonical(payload)` (`signed.canonical`), with a domain of its
own so a full signed list can never be passed off as a delta or the other way round.
`payload_digest` is SHA-256 of the canonical payload: the value the next delta names.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.signed import (
    PublicKeyLike,
    SignatureMismatchError,
    SignedListError,
    UnsignedListError,
    UntrustedKeyError,
    _verify,
    canonical,
    entry_from_dict,
    entry_to_dict,
    key_id,
    load_public_key,
)
from tantalio.hashsets.validate import format_date, parse_date

FORMAT_ID = "tantalio-signed-delta"
VERSION = 1
DOMAIN = b"tantalio-signed-delta/v1\n"
DEFAULT_VALIDITY = timedelta(days=30)

__all__ = [
    "FORMAT_ID",
    "Delta",
    "DeltaChainError",
    "DeltaError",
    "DeltaExpiredError",
    "DeltaGapError",
    "DeltaReplayError",
    "SignatureMismatchError",
    "SubscriptionState",
    "UnsignedListError",
    "UntrustedKeyError",
    "build_payload",
    "payload_digest",
    "sign_payload",
    "verify_delta",
]


class DeltaError(SignedListError):
    """A delta that must not be applied; subclasses say why."""


class DeltaReplayError(DeltaError):
    """A delta at or below the subscriber's last sequence number (already applied)."""


class DeltaGapError(DeltaError):
    """A delta further ahead than the next one: one or more deltas are missing."""


class DeltaChainError(DeltaError):
    """The right sequence number, but it does not follow the delta the subscriber applied."""


class DeltaExpiredError(DeltaError):
    """The delta's `expires` time has passed."""


@dataclass(slots=True)
class SubscriptionState:
    """Where a subscriber is in a list's chain: 0 and "" before the first delta."""

    list_name: str
    last_seq: int = 0
    last_digest: str = ""


@dataclass(slots=True)
class Delta:
    """A verified delta, ready to apply. `warnings` name entries that were invalid (skipped)."""

    list_name: str
    issuer: str
    seq: int
    digest: str
    prev_digest: str
    created: datetime | None
    expires: datetime
    add: list[HashEntry]
    retract: list[HashEntry]
    key_id: str
    warnings: list[ParseWarning] = field(default_factory=list)

    def next_state(self) -> SubscriptionState:
        return SubscriptionState(self.list_name, self.seq, self.digest)


# -- writing ----------------------------------------------------------------------------
def build_payload(
    list_name: str,
    issuer: str,
    seq: int,
    prev_digest: str,
    add: Iterable[HashEntry] = (),
    retract: Iterable[HashEntry] = (),
    *,
    created: datetime | None = None,
    expires: datetime | None = None,
) -> dict[str, Any]:
    """The payload of delta `seq` of `list_name` (seq starts at 1, whose prev_digest is "")."""
    if seq < 1:
        raise ValueError("delta sequence numbers start at 1")
    if (seq == 1) != (prev_digest == ""):
        raise ValueError("only delta 1 has an empty prev_digest")
    created = created or datetime.now(UTC)
    return {
        "format": FORMAT_ID,
        "version": VERSION,
        "list": list_name,
        "issuer": issuer,
        "seq": int(seq),
        "prev_digest": prev_digest,
        "created": format_date(created),
        "expires": format_date(expires or created + DEFAULT_VALIDITY),
        "add": [entry_to_dict(e) for e in add],
        "retract": [_retraction(e) for e in retract],
    }


def _retraction(entry: HashEntry) -> dict[str, Any]:
    """A retraction names hashes only: what the entry said no longer matters."""
    out: dict[str, Any] = dict(entry.hashes())
    out.pop("photodna", None)
    if entry.vpdq:
        out["vpdq"] = list(entry.vpdq)
    if not out:
        raise ValueError("a retraction needs at least one hash")
    return out


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def sign_payload(payload: dict[str, Any], private_key: Ed25519PrivateKey) -> bytes:
    """The signed delta document as bytes."""
    signature = private_key.sign(DOMAIN + canonical(payload))
    document = {
        "format": FORMAT_ID,
        "payload": payload,
        "signature": {
            "algorithm": "ed25519",
            "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- reading ----------------------------------------------------------------------------
def verify_delta(
    data: bytes,
    public_keys: Sequence[PublicKeyLike],
    state: SubscriptionState,
    *,
    now: datetime | None = None,
    check_expiry: bool = True,
    source: str = "signed delta",
) -> Delta:
    """Verify `data` as the next delta after `state`, or raise a `DeltaError` /
    `SignedListError` subclass that says why it must not be applied. Nothing is applied
    here: the caller stores the entries and then `delta.next_state()`, in one transaction.

    Expiry guards the *newest* state a subscriber is shown: a subscriber catching up on a
    backlog passes `check_expiry=False` for every delta but the last it was given, because a
    later, unexpired delta names the earlier ones through its `prev_digest` chain."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeltaError(source, f"not a signed delta: not UTF-8 JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_ID:
        raise DeltaError(source, f"not a signed delta: 'format' is not {FORMAT_ID!r}")
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise DeltaError(source, "not a signed delta: no 'payload' object")
    signature = document.get("signature")
    if signature is None:
        raise UnsignedListError(source, "the delta is not signed; refused")
    keys = [load_public_key(k) for k in public_keys]
    used = _verify(payload, signature, keys, source, domain=DOMAIN, what="delta")
    delta = _read_payload(payload, used, source)
    _check_chain(delta, state, source)
    moment = now or datetime.now(UTC)
    if check_expiry and delta.expires <= moment:
        raise DeltaExpiredError(
            source,
            f"delta {delta.seq} of list {delta.list_name!r} expired at "
            f"{format_date(delta.expires)}; ask the issuer for a current one",
        )
    return delta


def _read_payload(payload: dict[str, Any], used_key: str, source: str) -> Delta:
    if payload.get("format") != FORMAT_ID or payload.get("version") != VERSION:
        raise DeltaError(source, f"unsupported delta version {payload.get('version')!r}")
    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise DeltaError(source, "delta has no valid 'seq'")
    prev = payload.get("prev_digest")
    if not isinstance(prev, str):
        raise DeltaError(source, "delta has no 'prev_digest'")
    try:
        expires = parse_date(payload.get("expires"))
        created = parse_date(payload.get("created"))
    except ValueError as exc:
        raise DeltaError(source, f"bad date in delta: {exc}") from None
    if expires is None:
        raise DeltaError(source, "delta has no 'expires' time")
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    delta = Delta(
        list_name=str(payload.get("list", "")),
        issuer=str(payload.get("issuer", "")),
        seq=seq,
        digest=payload_digest(payload),
        prev_digest=prev,
        created=created,
        expires=expires,
        add=[],
        retract=[],
        key_id=used_key,
    )
    for key, target in (("add", delta.add), ("retract", delta.retract)):
        raw_list = payload.get(key)
        if not isinstance(raw_list, list):
            raise DeltaError(source, f"delta has no {key!r} list")
        for number, raw in enumerate(raw_list, 1):
            entry, problem = entry_from_dict(raw)
            if entry is None:
                where = f"{source}:{key} {number}"
                delta.warnings.append(
                    ParseWarning(where, problem[0], f"{problem[1]}; record skipped")
                )
            else:
                target.append(entry)
    return delta


def _check_chain(delta: Delta, state: SubscriptionState, source: str) -> None:
    if delta.list_name != state.list_name:
        raise DeltaError(
            source, f"delta is for list {delta.list_name!r}, not the subscribed {state.list_name!r}"
        )
    if delta.seq <= state.last_seq:
        raise DeltaReplayError(
            source,
            f"delta {delta.seq} of list {delta.list_name!r} was already applied "
            f"(last applied: {state.last_seq}); replay refused",
        )
    if delta.seq != state.last_seq + 1:
        raise DeltaGapError(
            source,
            f"delta {delta.seq} of list {delta.list_name!r} skips "
            f"{delta.seq - state.last_seq - 1} delta(s) after {state.last_seq}; refused",
        )
    if delta.prev_digest != state.last_digest:
        raise DeltaChainError(
            source,
            f"delta {delta.seq} of list {delta.list_name!r} does not follow the delta "
            f"{state.last_seq} applied here (chain digest differs); refused",
        )
