"""Signed list deltas published by the running exchange, verified as a subscriber would with
`tantalio.hashsets.deltas.verify_delta`: a chain of three with a retraction."""

from __future__ import annotations

import json
import secrets

import pytest

from conftest import Exchange, audit_actions
from tantalio.hashsets import deltas
from tantalio.hashsets.signed import SignatureMismatchError


def test_list_chain_of_three_with_retraction(exchange: Exchange) -> None:
    admin = exchange.agency(scopes=("admin",))
    a, b, c = exchange.agency(), exchange.agency(), exchange.agency()
    name = f"worst-{secrets.token_hex(3)}"
    made = admin.post(
        "/v1/lists",
        json={
            "name": name,
            "description": "cat 1, two agencies",
            "rule": {"category": 1, "min_agencies": 2},
        },
    )
    assert made.status_code == 200, made.text
    assert (
        admin.post(
            "/v1/lists", json={"name": name, "rule": {"category": 1, "min_agencies": 2}}
        ).status_code
        == 409
    )
    h1, h2, h3 = (secrets.token_hex(32) for _ in range(3))
    a.post("/v1/records", json={"records": [{"sha256": h, "category": 1} for h in (h1, h2, h3)]})
    b.post(
        "/v1/records",
        json={"records": [{"sha256": h1, "category": 1}, {"sha256": h2, "category": 2}]},
    )
    assert admin.post(f"/v1/lists/{name}/publish").json() == {"seq": 1, "added": 1, "retracted": 0}
    # Two more agree on h2 and h3 (c), then b's h1 goes: h1 falls below the rule.
    c.post("/v1/records", json={"records": [{"sha256": h, "category": 1} for h in (h2, h3)]})
    assert admin.post(f"/v1/lists/{name}/publish").json() == {"seq": 2, "added": 2, "retracted": 0}
    b.post("/v1/records/retract", json={"records": [{"sha256": h1}]})
    assert admin.post(f"/v1/lists/{name}/publish").json() == {"seq": 3, "added": 0, "retracted": 1}

    # The subscriber side: pin the key, fetch every delta, verify the chain in order.
    key = a.get(f"/v1/lists/{name}/key").json()
    assert key["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    page = a.get(f"/v1/lists/{name}/deltas", params={"after": 0}).json()
    assert page["list"] == name and page["more"] is False and len(page["deltas"]) == 3
    state = deltas.SubscriptionState(name)
    held: set[str] = set()
    for doc in page["deltas"]:
        delta = deltas.verify_delta(doc.encode(), [key["public_key"].encode()], state)
        assert delta.key_id == key["key_id"]
        held |= {e.sha256 for e in delta.add if e.sha256}
        held -= {e.sha256 for e in delta.retract if e.sha256}
        assert all(e.category == 1 for e in delta.add)
        state = delta.next_state()
    assert held == {h2, h3} and state.last_seq == 3
    # A subscription (tantalio.subscriptions) reads the same documents from this URL.
    from tantalio.subscriptions.sources import ExchangeListSource

    source = ExchangeListSource(f"{exchange.url}/v1/lists/{name}", key=a.token)  # type: ignore[attr-defined]
    assert source.list_name() == name
    assert [d.decode() for d in source.fetch(1)] == page["deltas"][1:]
    # Only what is new: after 2, one delta.
    assert len(a.get(f"/v1/lists/{name}/deltas", params={"after": 2}).json()["deltas"]) == 1
    # A replayed delta and a tampered one are refused by the subscriber.
    with pytest.raises(deltas.DeltaReplayError):
        deltas.verify_delta(page["deltas"][2].encode(), [key["public_key"].encode()], state)
    doc = json.loads(page["deltas"][2])
    doc["payload"]["retract"] = []
    first = deltas.SubscriptionState(
        name, 2, json.loads(page["deltas"][2])["payload"]["prev_digest"]
    )
    with pytest.raises(SignatureMismatchError):
        deltas.verify_delta(json.dumps(doc).encode(), [key["public_key"].encode()], first)
    publications = [e for e in audit_actions(exchange.db_url) if e[0] == "list.publish"]
    assert [e[2]["seq"] for e in publications][-3:] == [1, 2, 3]
    # An unknown list is a clear 404.
    missing = a.get("/v1/lists/no-such-list/deltas")
    assert missing.status_code == 404 and missing.json()["error"] == "no_list"
    # The signing key file lives apart from the database, mode 0600.
    assert exchange.signing_key.stat().st_mode & 0o777 == 0o600
