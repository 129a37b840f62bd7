"""Issue 13: a reference set created (or pulled) after a case was ingested re-matches the
case's earlier pictures by local features: they are read again from the evidence (a folder
and a zip, read-only, SHA-256 checked), verdicts change, and the examiner is told which
files changed. Benign synthetic pictures only."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.hashsets import deltas, signed
from tantalio.store import repo
from tantalio.store.subscriptions import CaseNotice
from tantalio.store.workspace import open_workspace
from tantalio.subscriptions.workspace import pull, subscribe

runner = CliRunner()


def ok(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def _rows(ws: Path) -> dict[str, dict[str, object]]:
    out = ok("triage", "C", "--format", "json", "-w", str(ws))
    rows = map(json.loads, out.splitlines())
    return {str(r["path"]): r for r in rows if r["verdict"] != "non-media"}


def _setup(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    rng = random.Random(13)
    lake = synth.picture(rng, 480, 360, "landscape")
    refs = tmp_path / "refs"
    synth.write(refs / "lake.jpg", synth.jpeg_bytes(lake))
    w, h = lake.size
    card = tmp_path / "card"
    crop = synth.jpeg_bytes(lake.crop((int(w * 0.15), int(h * 0.1), int(w * 0.95), int(h * 0.9))))
    synth.write(card / "crop.jpg", crop)
    synth.write(card / "rot3.jpg", synth.jpeg_bytes(lake.rotate(3, Image.Resampling.BICUBIC)))
    synth.write(card / "other.jpg", synth.jpeg_bytes(synth.picture(rng, 480, 360, "texture")))
    phone = tmp_path / "phone.zip"  # a container exhibit: its member is read through the walker
    with zipfile.ZipFile(phone, "w") as z:
        z.writestr("DCIM/crop2.jpg", synth.jpeg_bytes(lake.crop((0, 0, int(w * 0.8), h))))
    ws = tmp_path / "ws"
    ok("init", str(ws))
    for source in (card, phone):
        ok("ingest", "C", str(source), "-j", "1", "--no-progress", "-w", str(ws))
    return ws, refs, card, phone


def test_a_set_created_after_the_media_changes_their_verdicts(tmp_path: Path) -> None:
    ws, refs, card, _ = _setup(tmp_path)
    before = _rows(ws)
    assert {p: r["verdict"] for p, r in before.items()} == {
        "crop.jpg": "new", "rot3.jpg": "new", "other.jpg": "new", "phone.zip/DCIM/crop2.jpg": "new",
    }  # fmt: skip
    evidence = {p: p.read_bytes() for p in card.iterdir()}
    output = ok("hashset", "create", "Refs", "--from", str(refs), "-w", str(ws))
    assert "earlier pictures read again for local features: 4, 3 found" in output
    for path in ("crop.jpg", "rot3.jpg", "phone.zip/DCIM/crop2.jpg"):
        assert f"{path}: new -> near-known" in output, output
    rows = _rows(ws)
    for path in ("crop.jpg", "rot3.jpg", "phone.zip/DCIM/crop2.jpg"):
        assert rows[path]["verdict"] == "near-known", path
        assert rows[path]["match_kind"] == "local-features"
        assert rows[path]["transform"]["inliers"] >= 22  # type: ignore[index]
    assert rows["other.jpg"]["verdict"] == "new"
    assert {p: p.read_bytes() for p in card.iterdir()} == evidence  # read-only
    with open_workspace(ws) as w, w.session() as s:
        [notice] = s.scalars(select(CaseNotice).where(CaseNotice.kind == "hashset-create")).all()
        assert "changed 3 verdict(s): 3 new → near-known" in notice.text
        assert {f["path"] for f in notice.detail["files"]} == {
            "crop.jpg", "rot3.jpg", "phone.zip/DCIM/crop2.jpg"
        }  # fmt: skip


def test_changed_or_missing_evidence_is_reported_and_left_alone(tmp_path: Path) -> None:
    ws, refs, card, phone = _setup(tmp_path)
    synth.write(card / "rot3.jpg", b"changed since ingest")  # no longer the stored SHA-256
    phone.unlink()
    r = runner.invoke(app, ["hashset", "create", "Refs", "--from", str(refs), "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert r.output.count("not readable with the stored SHA-256") == 2
    assert "read again for local features: 2, 1 found" in r.output
    rows = _rows(ws)
    assert rows["crop.jpg"]["verdict"] == "near-known"
    assert (
        rows["rot3.jpg"]["verdict"] == "new"
        and rows["phone.zip/DCIM/crop2.jpg"]["verdict"] == "new"
    )


def test_a_pulled_delta_re_matches_earlier_pictures(tmp_path: Path) -> None:
    ws, refs, _, _ = _setup(tmp_path)
    lab = tmp_path / "lab"
    ok("init", str(lab))
    ok("hashset", "create", "Refs", "--from", str(refs), "-w", str(lab))
    with open_workspace(lab) as w, w.session() as s:
        entries = list(repo.iter_entries(s, repo.get_hash_set(s, "Refs").id))
    assert entries[0].local_features
    private, public = signed.generate_keypair()
    pub = tmp_path / "lab.pem"
    signed.save_public_key(public, pub)
    folder = tmp_path / "deltas"
    folder.mkdir()
    payload = deltas.build_payload("refs", "Lab", 1, "", entries, [])
    (folder / "000001.json").write_bytes(deltas.sign_payload(payload, private))
    with open_workspace(ws) as w:
        subscribe(w, str(folder), "Sub", pub)
        [result] = pull(w)
    assert result.error is None
    assert {(c.path, c.before, c.after) for c in result.changes} == {
        ("crop.jpg", "new", "near-known"),
        ("rot3.jpg", "new", "near-known"),
        ("phone.zip/DCIM/crop2.jpg", "new", "near-known"),
    }
    assert _rows(ws)["crop.jpg"]["match_kind"] == "local-features"


def test_on_both_back_ends_imported_and_created_sets_re_match(db_url: str, tmp_path: Path) -> None:
    """SQLite and PostgreSQL: a signed list of reference files imported after the ingest
    changes the verdicts; a set then made from the same files finds them settled."""
    from tantalio.store.workspace import init_workspace
    from tantalio.triage.hashset_create import create_hash_set_from_files
    from tantalio.triage.hashset_import import import_hash_set
    from tantalio.triage.pipeline import ingest
    from tantalio.triage.results import triage_rows

    _, refs, card, _ = _setup(tmp_path)
    lab = init_workspace(tmp_path / "lab")
    try:
        create_hash_set_from_files(lab, "Refs", refs)
        with lab.session() as s:
            entries = list(repo.iter_entries(s, repo.get_hash_set(s, "Refs").id))
    finally:
        lab.close()
    private, public = signed.generate_keypair()
    listed = tmp_path / "refs.json"
    listed.write_bytes(signed.publish(entries, private, "Refs", "Lab"))
    pub = tmp_path / "lab.pem"
    signed.save_public_key(public, pub)
    ws = init_workspace(tmp_path / "ws2", database=db_url)
    try:
        ingest(ws, "C", [str(card)])
        imported = import_hash_set(ws, listed, "tantalio-signed", "Theirs", trusted_keys=[pub])
        assert imported.entries == 1 and imported.matched_media == 2
        with ws.session() as s:
            rows = {r.path: r.to_json() for r in triage_rows(s, repo.get_case(s, "C").id)}
        assert rows["crop.jpg"]["verdict"] == "near-known"
        assert rows["crop.jpg"]["match_kind"] == "local-features"
        assert rows["rot3.jpg"]["verdict"] == "near-known"
        assert rows["other.jpg"]["verdict"] == "new"
        result = create_hash_set_from_files(ws, "Refs", refs)
        assert result.changes == [] and result.retro.searched == 1  # only other.jpg is open
    finally:
        ws.close()
