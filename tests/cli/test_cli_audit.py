"""Every CLI action that changes a workspace or exports from it is in the hash-chained audit
log (issue 16): ingest, hash-set import and publish, chats import, case create, report, export,
network export — as `cli:<OS login>`, with `--as USER` recorded beside it; both databases."""

from __future__ import annotations

import getpass
import hashlib
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.store.audit import list_audit_events, verify_audit_chain
from tantalio.store.workspace import open_workspace

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()


def test_cli_actions_are_audited(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("TANTALIO_DB", "TANTALIO_WORKSPACE", "TANTALIO_AS"):
        monkeypatch.delenv(var, raising=False)
    rng = random.Random(16)
    card = tmp_path / "card"
    pictures = [synth.jpeg_bytes(synth.picture(rng, 160, 120)) for _ in range(3)]
    for i, data in enumerate(pictures):
        synth.write(card / f"p{i}.jpg", data)
    known = tmp_path / "known.md5"
    known.write_text(f"{hashlib.md5(pictures[0]).hexdigest()}  p0.jpg\n")
    ws = tmp_path / "ws"
    w = ["-w", str(ws)]

    def ok(*args: str) -> None:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output

    ok("init", str(ws), "--db", db_url)
    ok("hashset", "import", str(known), "-f", "md5sum", "-n", "known", *w, "--as", "Alice")
    ok("ingest", "K-1", str(card), "--jobs", "1", "--no-progress", *w)
    chats = DATA / "chats" / "text" / "direct" / "WhatsApp Chat with Alice.txt"
    ok("chats", "import", "K-1", str(chats), "--owner", "+15550001111", *w)
    ok("case", "create", "K-2", *w)
    ok("report", "K-1", "-o", str(tmp_path / "report"), *w)
    ok("export", "K-1", "-o", str(tmp_path / "k1.vics.json"), *w)
    ok("network", "K-1", "--export", str(tmp_path / "k1.graphml"), *w)
    ok("hashset", "keygen", str(tmp_path / "signer"))
    key = str(tmp_path / "signer.key.pem")
    out = str(tmp_path / "known.signed.json")
    ok("hashset", "publish", "known", "--key", key, "--issuer", "Lab", "-o", out, *w)
    triage = runner.invoke(app, ["triage", "K-1", "--format", "json", *w])  # a reading: not audited
    assert triage.exit_code == 0

    with open_workspace(ws) as opened, opened.session() as s:
        events = list(reversed(list_audit_events(s, limit=100)))
        assert verify_audit_chain(s).ok
    actions = [e.action for e in events]
    assert actions == [
        "hashset.import",
        "ingest.start",
        "classify",  # the ingest scored its new media with the classifier plug-ins
        "ingest.finish",
        "chats.import",
        "case.create",
        "export",  # report
        "export",  # vics
        "export",  # network graph
        "hashset.publish",
    ]
    assert {e.username for e in events} == {f"cli:{getpass.getuser()}"}
    # the classifier run inside the ingest is its own event (tantalio.classify); the rest
    # are the CLI's, checked field by field
    events = [e for e in events if e.action != "classify"]
    details = [json.loads(e.detail) for e in events]
    assert all(d["via"] == "cli" for d in details)
    assert details[0]["as"] == "alice" and all("as" not in d for d in details[1:])
    assert details[0]["entries"] == 1 and details[0]["format"] == "md5sum"
    assert events[2].object_type == "case" and events[2].object_id is not None
    assert details[2]["files"] == 3 and details[2]["verdicts"] == {"known": 1, "new": 2}
    assert [d["format"] for d in details[5:8]] == ["report", "vics", "graphml"]
    assert details[8]["entries"] == 1 and details[8]["out"] == out
    assert not any(hashlib.md5(pictures[0]).hexdigest() in e.detail for e in events)


def test_as_comes_from_the_environment_and_a_failed_ingest_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TANTALIO_DB", raising=False)
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    monkeypatch.setenv("TANTALIO_AS", "bob")
    result = runner.invoke(app, ["ingest", "K-1", str(tmp_path / "nope"), "-w", str(ws)])
    assert result.exit_code == 1
    with open_workspace(ws) as opened, opened.session() as s:
        events = list(reversed(list_audit_events(s)))
    assert [e.action for e in events] == ["ingest.start", "ingest.failed"]
    failed = json.loads(events[1].detail)
    assert failed["as"] == "bob" and "no such file or folder" in failed["error"]
