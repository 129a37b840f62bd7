"""Signed deltas: only the next link of a list's chain is accepted, and a refused delta says
why (replay, gap, fork, expiry, tampering, untrusted key)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair

NOW = datetime(2026, 12, 1, tzinfo=UTC)
A = HashEntry(md5="a" * 32, category=1, series="S-1")
B = HashEntry(sha256="b" * 64, pdq="c" * 64)


def chain(private, n: int, *, expires: datetime | None = None) -> list[bytes]:
    docs, prev = [], ""
    for seq in range(1, n + 1):
        payload = deltas.build_payload(
            "worst",
            "exchange",
            seq,
            prev,
            add=[A] if seq == 1 else [B],
            retract=[A] if seq == 3 else [],
            created=NOW,
            expires=expires,
        )
        docs.append(deltas.sign_payload(payload, private))
        prev = deltas.payload_digest(payload)
    return docs


def test_a_chain_applies_in_order_with_adds_and_retractions() -> None:
    private, public = generate_keypair()
    state = deltas.SubscriptionState("worst")
    seen = []
    for doc in chain(private, 3):
        delta = deltas.verify_delta(doc, [public], state, now=NOW)
        seen.append((delta.seq, [e.md5 or e.sha256 for e in delta.add], len(delta.retract)))
        state = delta.next_state()
    assert seen == [(1, ["a" * 32], 0), (2, ["b" * 64], 0), (3, ["b" * 64], 1)]
    assert state.last_seq == 3 and len(state.last_digest) == 64


@pytest.mark.parametrize(
    ("applied", "offered", "error"),
    [
        (2, 1, deltas.DeltaReplayError),
        (2, 2, deltas.DeltaReplayError),
        (0, 2, deltas.DeltaGapError),
    ],
)
def test_replays_and_gaps_are_refused(applied: int, offered: int, error: type) -> None:
    private, public = generate_keypair()
    docs = chain(private, 3)
    state = deltas.SubscriptionState("worst")
    for doc in docs[:applied]:
        state = deltas.verify_delta(doc, [public], state, now=NOW).next_state()
    with pytest.raises(error):
        deltas.verify_delta(docs[offered - 1], [public], state, now=NOW)


def test_a_fork_with_the_right_number_is_refused() -> None:
    private, public = generate_keypair()
    state = deltas.verify_delta(
        chain(private, 1)[0], [public], deltas.SubscriptionState("worst"), now=NOW
    ).next_state()
    other = deltas.build_payload("worst", "exchange", 2, "0" * 64, add=[B], created=NOW)
    with pytest.raises(deltas.DeltaChainError):
        deltas.verify_delta(deltas.sign_payload(other, private), [public], state, now=NOW)


def test_expired_tampered_untrusted_and_unsigned_deltas_are_refused() -> None:
    private, public = generate_keypair()
    _, stranger = generate_keypair()
    start = deltas.SubscriptionState("worst")
    old = chain(private, 1, expires=NOW - timedelta(seconds=1))[0]
    with pytest.raises(deltas.DeltaExpiredError):
        deltas.verify_delta(old, [public], start, now=NOW)
    doc = json.loads(chain(private, 1)[0])
    doc["payload"]["add"][0]["category"] = 4
    with pytest.raises(deltas.SignatureMismatchError):
        deltas.verify_delta(json.dumps(doc).encode(), [public], start, now=NOW)
    with pytest.raises(deltas.UntrustedKeyError):
        deltas.verify_delta(chain(private, 1)[0], [stranger], start, now=NOW)
    del doc["signature"]
    with pytest.raises(deltas.UnsignedListError):
        deltas.verify_delta(json.dumps(doc).encode(), [public], start, now=NOW)
    with pytest.raises(deltas.DeltaError):
        deltas.verify_delta(
            chain(private, 1)[0], [public], deltas.SubscriptionState("other"), now=NOW
        )


def test_a_full_signed_list_is_not_a_delta() -> None:
    from tantalio.hashsets.signed import publish

    private, public = generate_keypair()
    with pytest.raises(deltas.DeltaError):
        deltas.verify_delta(
            publish([A], private, "worst", "x"),
            [public],
            deltas.SubscriptionState("worst"),
            now=NOW,
        )
