"""Issue 13: a set made from reference files (`hashset create --from DIR`) travels as a signed
list with its trimmed-PDQ and local-features entries intact: published, imported into
another workspace or a platform bank, and pulled as a subscription delta, each verified, a
tampered one refused with nothing stored. Benign synthetic pictures only."""

from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.hashsets import deltas, signed
from tantalio.store import repo
from tantalio.store.hashsets import HashEntry, HashEntryFeatures, HashSet
from tantalio.store.workspace import open_workspace
from tantalio.subscriptions.workspace import pull, subscribe

runner = CliRunner()


def ok(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def _features(ws: Path, set_name: str) -> dict[str, tuple[str | None, str | None]]:
    """{sha256: (pdq_trimmed, local_features)} of a stored set's entries."""
    with open_workspace(ws) as w, w.session() as s:
        q = (
            select(
                HashEntry.sha256, HashEntryFeatures.pdq_trimmed, HashEntryFeatures.local_features
            )
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .outerjoin(HashEntryFeatures, HashEntryFeatures.hash_entry_id == HashEntry.id)
            .where(HashSet.name == set_name)
        )
        return {sha: (t, lf) for sha, t, lf in s.execute(q)}


@pytest.fixture
def made(tmp_path: Path) -> dict[str, Path]:
    rng = random.Random(13)
    lake = synth.picture(rng, 480, 360, "landscape")
    refs = tmp_path / "refs"
    synth.write(refs / "lake.jpg", synth.jpeg_bytes(lake))
    boxed = Image.new("RGB", (480, 640), (0, 0, 0))  # a framed reference: a trimmed PDQ too
    boxed.paste(synth.picture(rng, 480, 360, "landscape"), (0, 140))
    buf = io.BytesIO()
    boxed.save(buf, "PNG")
    synth.write(refs / "boxed.png", buf.getvalue())
    card = tmp_path / "card"
    w, h = lake.size
    crop = lake.crop((int(w * 0.15), int(h * 0.1), int(w * 0.95), int(h * 0.9)))
    synth.write(card / "crop.jpg", synth.jpeg_bytes(crop))
    a, b = tmp_path / "a", tmp_path / "b"
    ok("init", str(a))
    ok("init", str(b))
    ok("hashset", "create", "Refs", "--from", str(refs), "-w", str(a))
    keys = tmp_path / "lab"
    ok("hashset", "keygen", str(keys))
    listed = tmp_path / "refs.json"
    ok("hashset", "publish", "Refs", "--key", f"{keys}.key.pem", "--issuer", "Lab",
       "--out", str(listed), "-w", str(a))  # fmt: skip
    return {"a": a, "b": b, "card": card, "list": listed, "key": keys,
            "pub": Path(f"{keys}.pub.pem")}  # fmt: skip


def test_published_list_carries_the_features_and_imports_them_intact(
    made: dict[str, Path],
) -> None:
    original = _features(made["a"], "Refs")
    assert sum(1 for t, _ in original.values() if t) == 1  # the framed one
    assert all((lf or "").startswith("lf1:") for _, lf in original.values())
    doc = json.loads(made["list"].read_bytes())
    stored = {e["sha256"]: e for e in doc["payload"]["entries"]}
    assert {k: (e.get("pdq_trimmed"), e.get("local_features")) for k, e in stored.items()} == (
        original
    )
    ok("hashset", "import", str(made["list"]), "-f", "tantalio-signed", "-n", "Theirs",
       "--trusted-key", str(made["pub"]), "-w", str(made["b"]))  # fmt: skip
    assert _features(made["b"], "Theirs") == original
    # the imported references find a crop PDQ misses, as the originals do
    ok("ingest", "C", str(made["card"]), "-j", "1", "--no-progress", "-w", str(made["b"]))
    rows = [
        json.loads(x)
        for x in ok("triage", "C", "--format", "json", "-w", str(made["b"])).splitlines()
    ]
    [crop] = [r for r in rows if r["path"] == "crop.jpg"]
    assert crop["verdict"] == "near-known" and crop["match_kind"] == "local-features"


def test_a_tampered_feature_is_refused_and_nothing_is_stored(made: dict[str, Path]) -> None:
    doc = json.loads(made["list"].read_bytes())
    entry = next(e for e in doc["payload"]["entries"] if e.get("local_features"))
    lf = entry["local_features"]
    entry["local_features"] = lf[:40] + ("A" if lf[40] != "A" else "B") + lf[41:]
    bad = made["list"].with_name("tampered.json")
    bad.write_text(json.dumps(doc))
    r = runner.invoke(app, ["hashset", "import", str(bad), "-f", "tantalio-signed", "-n", "T",
                            "--trusted-key", str(made["pub"]), "-w", str(made["b"])])  # fmt: skip
    assert r.exit_code != 0 and "was modified" in r.output, r.output
    with open_workspace(made["b"]) as w, w.session() as s:
        assert s.scalar(select(HashSet.id).where(HashSet.name == "T")) is None
        assert s.scalars(select(HashEntryFeatures)).first() is None
    # a value that is signed but does not parse refuses that record, naming the field
    entry["local_features"] = "lf1:AAAA"
    private = signed.load_private_key(f"{made['key']}.key.pem")
    with pytest.raises(signed.SignedListError):
        signed.verify_and_read(json.dumps(doc).encode(), [made["pub"]])
    payload = doc["payload"]
    signature = private.sign(signed.DOMAIN + signed.canonical(payload))
    document = {
        "format": payload["format"],
        "payload": payload,
        "signature": {
            "algorithm": "ed25519",
            "key_id": signed.key_id(private.public_key()),
            "value": base64.b64encode(signature).decode(),
        },
    }
    read = signed.verify_and_read(json.dumps(document).encode(), [made["pub"]])
    assert len(read.entries) == 1 and read.warnings
    assert read.warnings[0].field == "local_features"


def test_a_subscription_delta_carries_the_features(made: dict[str, Path], tmp_path: Path) -> None:
    original = _features(made["a"], "Refs")
    with open_workspace(made["a"]) as w, w.session() as s:
        entries = list(repo.iter_entries(s, repo.get_hash_set(s, "Refs").id))
    folder = tmp_path / "deltas"
    folder.mkdir()
    private = signed.load_private_key(f"{made['key']}.key.pem")
    payload = deltas.build_payload("refs", "Lab", 1, "", entries, [])
    (folder / "000001.json").write_bytes(deltas.sign_payload(payload, private))
    with open_workspace(made["b"]) as ws:
        subscribe(ws, str(folder), "Sub", made["pub"])
        [result] = pull(ws)
        assert result.error is None and result.applied[0].added == 2
    assert _features(made["b"], "Sub") == original
    # the next delta, tampered after signing, is refused and changes nothing
    payload2 = deltas.build_payload(
        "refs", "Lab", 2, deltas.payload_digest(payload), entries[:1], []
    )
    doc = json.loads(deltas.sign_payload(payload2, private))
    doc["payload"]["add"][0]["local_features"] = original[entries[1].sha256 or ""][1]
    (folder / "000002.json").write_text(json.dumps(doc))
    with open_workspace(made["b"]) as ws:
        [result] = pull(ws)
        assert result.error and "modified" in result.error
    assert _features(made["b"], "Sub") == original


def test_a_platform_bank_imports_the_features(made: dict[str, Path], tmp_path: Path) -> None:
    from tantalio.platform import PlatformConfig, PlatformService
    from tantalio.platform.imports import import_bytes

    svc = PlatformService(PlatformConfig(db_url=f"sqlite:///{tmp_path / 'p.db'}"))
    try:
        svc.start(background=False)
        svc.create_bank("REFS")
        import_bytes(svc, "REFS", made["list"].read_bytes(), source="refs.json",
                     format="tantalio-signed", trusted_keys=[made["pub"]])  # fmt: skip
        index = svc.local_index()
        assert index is not None and len(index) == 2
        from tantalio.fingerprint import fingerprint_file
        from tantalio.fingerprint.config import FingerprintConfig

        fp = fingerprint_file(
            str(made["card"] / "crop.jpg"), config=FingerprintConfig(local_features="query")
        )
        [m] = svc.lookup_fingerprint(fp)
        assert m.signal_type == "local-features" and m.bank.name == "REFS"
    finally:
        svc.close()
