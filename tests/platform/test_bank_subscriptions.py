"""A platform bank fed by a signed list: pulled deltas add and retract entries that the
running service matches (through the index change feed), and a refused delta changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_helpers import Env, signed_list

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.subscriptions.bank import pull_banks, subscribe_bank
from tantalio.subscriptions.workspace import SubscriptionError

MD5 = "0123456789abcdef" * 2
PDQ = "f0e1d2c3b4a59687" * 4


def _lookup(env: Env, signal_type: str, signal: str) -> list[int]:
    r = env.client.get(
        "/m/raw_lookup", params={"signal_type": signal_type, "signal": signal}, headers=env.lookup
    )
    assert r.status_code == 200, r.text
    return [int(x) for x in r.json()["matches"]]


def test_pull_adds_and_retracts_bank_entries(any_env: Env, tmp_path: Path) -> None:
    env = any_env
    env.service.create_bank("worst")
    lst = signed_list(tmp_path, "worst", [HashEntry(md5=MD5, category=1), HashEntry(pdq=PDQ)])
    folder, private, p1 = lst.folder, lst.private, lst.first
    subscribe_bank(env.service.store, "worst", str(folder), str(lst.issuer))
    with pytest.raises(SubscriptionError):
        subscribe_bank(env.service.store, "worst", str(folder), str(lst.issuer))
    [r] = pull_banks(env.service.store)
    assert (r.bank, r.seq, r.added, r.removed, r.error) == ("worst", 1, 2, 0, None)
    env.service.sync.refresh()
    assert len(_lookup(env, "md5", MD5)) == 1 and len(_lookup(env, "pdq", PDQ)) == 1

    p2 = deltas.build_payload(
        "worst", "central", 2, deltas.payload_digest(p1), retract=[HashEntry(md5=MD5)]
    )
    (folder / "2.json").write_bytes(deltas.sign_payload(p2, private))
    p3 = deltas.build_payload(
        "worst", "central", 3, deltas.payload_digest(p2), [HashEntry(md5="a" * 32)]
    )
    doc = json.loads(deltas.sign_payload(p3, private))
    doc["payload"]["add"][0]["md5"] = "b" * 32  # tampered after signing
    (folder / "3.json").write_text(json.dumps(doc))
    [r] = pull_banks(env.service.store, "worst")
    assert (r.seq, r.added, r.removed) == (2, 0, 1) and "modified" in (r.error or "")
    env.service.sync.refresh()
    assert _lookup(env, "md5", MD5) == [] and len(_lookup(env, "pdq", PDQ)) == 1
    assert _lookup(env, "md5", "b" * 32) == []
    with pytest.raises(SubscriptionError):
        pull_banks(env.service.store, "nope")
