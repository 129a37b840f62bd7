"""The platform's hash-chained audit (issue 11): a refused bank pull is audited and changes
nothing, key and bank changes are audited with who made them, and an edited or deleted audit
row makes `tantalio platform audit --verify` fail naming the event. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from platform_helpers import Env, signed_list
from sqlalchemy import delete, update
from typer.testing import CliRunner

from tantalio.cli.main import app as cli
from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.store.platform import PlatformStore
from tantalio.store.platform import audit as platform_audit
from tantalio.store.platform import subscriptions as subs_store
from tantalio.store.platform.models import PlatformAuditEvent, PlatformAuditHead
from tantalio.subscriptions.bank import pull_banks, subscribe_bank

MD5 = "0123456789abcdef" * 2
PDQ = "f0e1d2c3b4a59687" * 4
FORGED = "b" * 32  # put into a signed delta after signing


def _events(store: PlatformStore) -> list[PlatformAuditEvent]:
    with store.session() as s:
        return list(reversed(platform_audit.events(s, limit=1000)))


def _live(store: PlatformStore, bank_id: int) -> list[tuple[str | None, str | None]]:
    return [(e.md5, e.pdq) for e in store.list_entries(bank_id, limit=1000)]


def test_tampered_delta_is_refused_audited_and_changes_nothing(any_env: Env, tmp_path: Path):
    store = any_env.service.store
    bank = any_env.service.create_bank("worst")
    lst = signed_list(tmp_path, "worst", [HashEntry(md5=MD5, category=1), HashEntry(pdq=PDQ)])
    folder, private, p1 = lst.folder, lst.private, lst.first
    subscribe_bank(store, "worst", str(folder), str(lst.issuer))
    [r] = pull_banks(store, actor="cli:tester")
    assert (r.seq, r.added, r.error) == (1, 2, None)
    before = _live(store, bank.id)

    p2 = deltas.build_payload(
        "worst", "central", 2, deltas.payload_digest(p1), [HashEntry(md5="a" * 32)]
    )
    doc = json.loads(deltas.sign_payload(p2, private))
    doc["payload"]["add"][0]["md5"] = FORGED
    (folder / "2.json").write_text(json.dumps(doc))
    [r] = pull_banks(store, "worst", actor="cli:tester")
    assert r.seq == 1 and r.added == 0 and "modified" in (r.error or "")

    # Nothing changed: the same live entries, the subscription still at delta 1.
    assert _live(store, bank.id) == before and len(before) == 2
    [sub] = subs_store.subscriptions(store)
    assert sub.last_seq == 1 and "modified" in (sub.last_error or "")

    events = _events(store)
    assert [e.action for e in events[-4:]] == [
        "bank.create",
        "bank.subscribe",
        "bank.pull",
        "bank.pull.refused",
    ]
    assert json.loads(events[-3].detail) == {"list": "worst", "source": str(folder.resolve())}
    applied, refused = (json.loads(e.detail) for e in events[-2:])
    assert applied == {"list": "worst", "from_seq": 0, "seq": 1, "added": 2, "removed": 0}
    assert refused["list"] == "worst" and refused["seq"] == 1
    assert "modified" in refused["error"]
    assert events[-1].actor == "cli:tester" and events[-1].object_id == "worst"
    assert events[-4].actor.startswith("local:")  # the service called without an actor
    # Names, sequence numbers, counts and errors; never the hash values themselves.
    for e in events:
        for value in (MD5, PDQ, FORGED, "a" * 32):
            assert value not in e.detail

    # Pulling again refuses again (audited again) and still changes nothing.
    [r] = pull_banks(store, "worst")
    assert r.error and _live(store, bank.id) == before
    assert _events(store)[-1].action == "bank.pull.refused"
    with store.session() as s:
        check = platform_audit.verify(s)
    assert check.ok, check.problems
    assert check.events == len(_events(store)) and check.head_seq == check.events


def test_key_revoke_through_the_api_is_audited(any_env: Env) -> None:
    store = any_env.service.store
    admin = next(k for k in store.list_keys() if k.name == "admin")
    r = any_env.client.delete("/v1/keys/matcher", headers=any_env.admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 1}
    r = any_env.client.get("/m/raw_lookup", params={"signal_type": "md5", "signal": MD5})
    assert r.status_code == 401
    events = _events(store)
    # The three keys the fixture made, then the revocation, naming who revoked which key.
    assert [e.action for e in events] == ["key.create"] * 3 + ["key.revoke"]
    revoke = events[-1]
    matcher = next(k for k in store.list_keys() if k.name == "matcher")
    assert revoke.actor == f"key:{admin.prefix}" and revoke.object_id == str(matcher.id)
    assert json.loads(revoke.detail) == {"name": "matcher", "prefix": matcher.prefix}
    # Revoking it again changes nothing and records nothing.
    assert any_env.client.delete("/v1/keys/matcher", headers=any_env.admin).status_code == 404
    assert len(_events(store)) == 4


def test_cli_audit_lists_and_verify_fails_on_an_edited_row(db_url: str) -> None:
    run = CliRunner().invoke
    for args in (
        ["bank", "create", "B1"],
        ["bank", "config", "B1", "--pdq-threshold", "20"],
        ["key", "create", "ops", "--scope", "lookup"],
        ["key", "revoke", "ops"],
        ["bank", "delete", "B1"],
    ):
        r = run(cli, ["platform", *args, "--db", db_url])
        assert r.exit_code == 0, r.output
    r = run(cli, ["platform", "audit", "--db", db_url])
    assert r.exit_code == 0, r.output
    lines = [line.split("\t") for line in r.output.strip().splitlines()]
    assert [(x[0], x[3], x[4]) for x in lines] == [
        ("1", "bank.create", "bank:B1"),
        ("2", "bank.config", "bank:B1"),
        ("3", "key.create", "api_key:1"),
        ("4", "key.revoke", "api_key:1"),
        ("5", "bank.delete", "bank:B1"),
    ]
    assert all(x[2].startswith("cli:") for x in lines)
    r = run(cli, ["platform", "audit", "--action", "key.", "--limit", "1", "--db", db_url])
    assert [x.split("\t")[3] for x in r.output.strip().splitlines()] == ["key.revoke"]
    r = run(cli, ["platform", "audit", "--verify", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert "5 events, chain intact (head 5:" in r.output

    store = PlatformStore(db_url)
    try:
        # Someone hides who revoked the key: the row no longer matches its hash.
        with store.session.begin() as s:
            s.execute(
                update(PlatformAuditEvent)
                .where(PlatformAuditEvent.seq == 4)
                .values(actor="cli:someone-else")
            )
        r = run(cli, ["platform", "audit", "--verify", "--db", db_url])
        assert r.exit_code == 1
        assert "chain BROKEN at event 4: content does not match its hash" in r.output
        with store.session.begin() as s:
            s.execute(
                update(PlatformAuditEvent)
                .where(PlatformAuditEvent.seq == 4)
                .values(actor=lines[3][2])
            )
        assert run(cli, ["platform", "audit", "--verify", "--db", db_url]).exit_code == 0
        # The newest row deleted (and the head left alone) shows too.
        with store.session.begin() as s:
            s.execute(delete(PlatformAuditEvent).where(PlatformAuditEvent.seq == 5))
            assert s.get(PlatformAuditHead, 1).seq == 5  # type: ignore[union-attr]
        r = run(cli, ["platform", "audit", "--verify", "--db", db_url])
        assert r.exit_code == 1 and "newest event is 4 but the head names 5" in r.output
    finally:
        store.close()


def test_bank_changes_through_the_api_name_the_key(any_env: Env) -> None:
    store = any_env.service.store
    curator = next(k for k in store.list_keys() if k.name == "curator")
    c = any_env.client
    assert c.post("/v1/banks", json={"name": "api"}, headers=any_env.curate).status_code == 201
    r = c.patch("/v1/banks/api", json={"pdq_threshold": 20}, headers=any_env.curate)
    assert r.status_code == 200, r.text
    r = c.post("/c/banks", json={"name": "hma"}, headers=any_env.curate)  # HMA's route
    assert r.status_code == 201, r.text
    assert c.delete("/v1/banks/api", headers=any_env.curate).status_code == 200
    events = _events(store)[3:]  # after the fixture's three keys
    assert [(e.action, e.object_id) for e in events] == [
        ("bank.create", "api"),
        ("bank.config", "api"),
        ("bank.create", "hma"),
        ("bank.delete", "api"),
    ]
    assert {e.actor for e in events} == {f"key:{curator.prefix}"}
    assert json.loads(events[1].detail) == {"pdq_threshold": 20}
    assert json.loads(events[3].detail) == {"entries_removed": 0}
