"""Signed list subscriptions in a workspace: a pull applies only the next deltas, re-triages
earlier cases for the affected hashes, tells the examiner what changed, and refuses a
tampered, replayed, gapped or expired delta without changing anything."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair, save_public_key
from tantalio.store import repo
from tantalio.store.auth import AuditEvent
from tantalio.store.cases import File
from tantalio.store.subscriptions import HashSetSubscription, unseen_notices
from tantalio.store.workspace import open_workspace
from tantalio.subscriptions.workspace import SubscriptionError, pull, subscribe
from tantalio.triage.verdicts import refresh_cases

from .helpers import fingerprint, flip, rand_pdq, store_files


class Issuer:
    """An exchange's list as files: each `publish` writes the next signed delta."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.private, public = generate_keypair()
        self.pub_path = folder.parent / "issuer.pem"
        save_public_key(public, self.pub_path)
        self.seq, self.prev = 0, ""

    def publish(self, add=(), retract=(), *, expires: datetime | None = None) -> Path:
        self.seq += 1
        payload = deltas.build_payload(
            "worst", "central", self.seq, self.prev, add, retract, expires=expires
        )
        self.prev = deltas.payload_digest(payload)
        path = self.folder / f"{self.seq:06d}.json"
        path.write_bytes(deltas.sign_payload(payload, self.private))
        return path


def _verdicts(ws) -> dict[str, str | None]:
    with ws.session() as s:
        return {p: v for p, v in s.execute(select(File.path, File.verdict))}


@pytest.fixture
def scenario(db_url: str, tmp_path: Path):
    rng = random.Random(11)
    near_pdq = rand_pdq(rng)
    fps = {
        "old/exact.jpg": fingerprint(b"exact-bytes", pdq=rand_pdq(rng)),
        "old/near.jpg": fingerprint(b"near-bytes", pdq=flip(near_pdq, [1, 9, 77, 200])),
        "old/other.jpg": fingerprint(b"other-bytes", pdq=rand_pdq(rng)),
    }
    with open_workspace(db_url) as ws:
        store_files(ws, "OLD-1", "phone", {k: fps[k] for k in ("old/exact.jpg", "old/near.jpg")})
        store_files(ws, "OLD-2", "laptop", {"old/other.jpg": fps["old/other.jpg"]})
        with ws.transaction() as s:
            refresh_cases(s, [c.id for c, _, _ in repo.list_cases(s)])
        yield ws, Issuer(tmp_path / "list"), fps, near_pdq


def test_pull_applies_adds_and_retractions_and_retriages_earlier_cases(scenario) -> None:
    ws, issuer, fps, near_pdq = scenario
    assert set(_verdicts(ws).values()) == {"new"}
    issuer.publish(add=[HashEntry(md5=fps["old/exact.jpg"].md5, category=1, series="Lake")])
    issuer.publish(add=[HashEntry(pdq=near_pdq, category=1)])
    subscribe(ws, str(issuer.folder), "worst", issuer.pub_path, user="erin")
    [result] = pull(ws, user="erin")
    assert result.error is None and (result.start_seq, result.seq) == (0, 2)
    assert [(d.seq, d.added, d.retracted) for d in result.applied] == [(1, 1, 0), (2, 1, 0)]
    moved = {(c.path, c.before, c.after) for c in result.changes}
    assert moved == {("old/exact.jpg", "new", "known"), ("old/near.jpg", "new", "near-known")}
    assert _verdicts(ws)["old/other.jpg"] == "new"

    # Nothing new: a second pull applies nothing and changes nothing.
    [again] = pull(ws)
    assert again.applied == [] and again.error is None and again.seq == 2

    # A retraction takes the verdict back, and the examiner is told.
    issuer.publish(retract=[HashEntry(md5=fps["old/exact.jpg"].md5)])
    [third] = pull(ws)
    assert [(d.seq, d.added, d.retracted) for d in third.applied] == [(3, 0, 1)]
    assert {(c.path, c.before, c.after) for c in third.changes} == {
        ("old/exact.jpg", "known", "new")
    }
    with ws.session() as s:
        case = repo.get_case(s, "OLD-1")
        texts = [n.text for n in unseen_notices(s, case.id)]
        assert any("1 known → new" in t for t in texts), texts
        assert any("1 new → known" in t for t in texts), texts
        assert unseen_notices(s, repo.get_case(s, "OLD-2").id) == []
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "hashset.pull")).all()
        assert [json.loads(e.detail)["seq"] for e in events] == [1, 2, 3]
        assert events[0].username == "erin"
        assert repo.get_hash_set(s, "worst").entry_count == 1


def test_refused_deltas_change_nothing_and_say_why(scenario, tmp_path: Path) -> None:
    ws, issuer, fps, _ = scenario
    first = issuer.publish(add=[HashEntry(md5=fps["old/exact.jpg"].md5, category=1)])
    subscribe(ws, str(issuer.folder), "worst", issuer.pub_path)
    second = issuer.publish(add=[HashEntry(md5=fps["old/other.jpg"].md5, category=1)])

    # Tampered: the second delta's category edited after signing.
    doc = json.loads(second.read_bytes())
    doc["payload"]["add"][0]["category"] = 4
    second.write_text(json.dumps(doc))
    [result] = pull(ws)
    assert result.seq == 1 and "modified" in (result.error or "")
    assert _verdicts(ws)["old/other.jpg"] == "new"
    with ws.session() as s:
        sub = s.scalars(select(HashSetSubscription)).one()
        assert sub.last_seq == 1 and "modified" in (sub.last_error or "")

    # A gap: delta 2 withheld, delta 3 offered.
    second.unlink()
    issuer.publish(add=[HashEntry(md5=fps["old/other.jpg"].md5, category=1)])
    [gap] = pull(ws)
    assert gap.seq == 1 and "skips 1 delta" in (gap.error or "")

    # A replay: the already-applied delta 1 offered again under another file name is skipped
    # (it is at or below the position), and nothing is applied twice.
    (issuer.folder / "000003.json").unlink()
    (issuer.folder / "copy.json").write_bytes(first.read_bytes())
    [replay] = pull(ws)
    assert replay.applied == [] and replay.error is None
    with ws.session() as s:
        assert repo.get_hash_set(s, "worst").entry_count == 1

    # Each refusal is in the audit log, naming the list, the position kept and why.
    with ws.session() as s:
        refused = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "hashset.pull.refused")
        ).all()
    details = [json.loads(e.detail) for e in refused]
    assert [(e.object_id, d["seq"]) for e, d in zip(refused, details, strict=True)] == [
        ("worst", 1),
        ("worst", 1),
    ]
    assert "modified" in details[0]["error"] and "skips 1 delta" in details[1]["error"]


def test_an_unreadable_source_is_audited_and_changes_nothing(scenario, tmp_path: Path) -> None:
    ws, issuer, fps, _ = scenario
    issuer.publish(add=[HashEntry(md5=fps["old/exact.jpg"].md5, category=1)])
    subscribe(ws, str(issuer.folder), "worst", issuer.pub_path)
    for f in issuer.folder.iterdir():
        f.unlink()
    issuer.folder.rmdir()
    [result] = pull(ws, user="erin")
    assert result.seq == 0 and result.error
    with ws.session() as s:
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "hashset.pull.failed")
        ).all()
        assert event.username == "erin" and event.object_id == "worst"
        assert repo.get_hash_set(s, "worst").entry_count == 0
    assert _verdicts(ws)["old/exact.jpg"] == "new"


def test_an_expired_newest_delta_is_refused_but_a_backlog_is_not(scenario) -> None:
    ws, issuer, fps, _ = scenario
    past = datetime.now(UTC) - timedelta(days=1)
    issuer.publish(add=[HashEntry(md5=fps["old/exact.jpg"].md5, category=1)], expires=past)
    subscribe(ws, str(issuer.folder), "worst", issuer.pub_path)
    [stale] = pull(ws)
    assert stale.seq == 0 and "expired" in (stale.error or "")
    issuer.publish(add=[HashEntry(md5=fps["old/other.jpg"].md5, category=1)])
    [fresh] = pull(ws)
    assert fresh.error is None and fresh.seq == 2
    assert _verdicts(ws)["old/exact.jpg"] == "known"


def test_an_untrusted_issuer_and_an_unknown_subscription_are_refused(scenario, tmp_path) -> None:
    ws, issuer, fps, _ = scenario
    issuer.publish(add=[HashEntry(md5=fps["old/exact.jpg"].md5, category=1)])
    _, stranger = generate_keypair()
    save_public_key(stranger, tmp_path / "stranger.pem")
    subscribe(ws, str(issuer.folder), "worst", tmp_path / "stranger.pem")
    [result] = pull(ws)
    assert result.seq == 0 and "not a trusted key" in (result.error or "")
    with pytest.raises(SubscriptionError):
        pull(ws, "nope")
    with pytest.raises(SubscriptionError):
        subscribe(ws, str(issuer.folder), "x", tmp_path / "missing.pem")
