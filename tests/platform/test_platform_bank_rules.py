"""Issue 12: every MatchRules field is configurable per bank (stored with the bank) and used
by `/v1/match*`, `/m/lookup` and `/m/raw_lookup` for matches in that bank: two banks holding
the same content under different rules give different answers for the same query. Through
the app (the in-process client, as the other platform tests) and the CLI."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFilter
from platform_helpers import Env, benign_image
from typer.testing import CliRunner

from tantalio.cli.main import app as cli
from tantalio.demo import synth
from tantalio.fingerprint import fingerprint_bytes
from tantalio.platform.service import Invalid


def _rotated(png: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).rotate(90, expand=True).save(buf, "PNG")
    return buf.getvalue()


def _flip_bits(hex64: str, n: int) -> str:
    v = int(hex64, 16)
    for bit in range(n):
        v ^= 1 << (bit * 7)
    return f"{v:064x}"


def _hma_photo(env: Env, data: bytes, **params: str) -> dict[str, Any]:
    r = env.client.post(
        "/m/lookup", files={"photo": ("p.png", data)}, params=params, headers=env.lookup
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["pdq"])


def _v1_upload(env: Env, data: bytes, name: str = "p.png") -> list[dict[str, Any]]:
    r = env.client.post("/v1/match/upload", files={"file": (name, data)}, headers=env.lookup)
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])


def test_orientations_and_threshold_per_bank(env: Env) -> None:
    c = env.client
    r = c.post("/v1/banks", json={"name": "TURNS"}, headers=env.curate)
    assert r.status_code == 201 and r.json()["match_rules"]["orientations"] is True
    r = c.post(
        "/v1/banks",
        json={"name": "ASIS", "pdq_threshold": 10, "match_rules": {"orientations": False}},
        headers=env.curate,
    )
    assert r.status_code == 201, r.text
    assert r.json()["match_rules"]["orientations"] is False
    assert r.json()["own_match_rules"] == ["orientations"]
    picture = benign_image(12)
    fp = fingerprint_bytes(picture, "p.png")
    ids = {b: env.service.add_fingerprint(b, fp) for b in ("TURNS", "ASIS")}

    # A rotated copy: found in the bank that matches orientations, not in the other.
    turned = _rotated(picture)
    assert list(_hma_photo(env, turned)) == ["TURNS"]
    assert {m["bank"] for m in _v1_upload(env, turned)} == {"TURNS"}
    # A request may still ask for orientations itself (HMA-style optional parameter).
    assert sorted(_hma_photo(env, turned, orientations="true")) == ["ASIS", "TURNS"]
    # The original is found in both.
    assert sorted(_hma_photo(env, picture)) == ["ASIS", "TURNS"]

    # A raw PDQ 20 bits away: within TURNS' 31, outside ASIS' 10.
    near = _flip_bits(fp.pdq or "", 20)
    q = {"signal_type": "pdq", "signal": near, "include_distance": "true"}
    raw = c.get("/m/raw_lookup", params=q, headers=env.lookup).json()["matches"]
    assert raw == [{"bank_content_id": ids["TURNS"], "distance": "20"}]
    by_bank = c.get("/m/lookup", params=q, headers=env.lookup).json()
    assert list(by_bank) == ["TURNS"]
    v1 = c.post("/v1/match", json={"hashes": {"pdq": near}}, headers=env.lookup).json()
    assert [m["entry_id"] for m in v1["matches"]] == [ids["TURNS"]]

    # Changing a bank's rules (PATCH, as `bank config` does) changes its answers at once.
    r = c.patch("/v1/banks/ASIS", json={"match_rules": {"orientations": True}}, headers=env.curate)
    assert r.status_code == 200 and r.json()["match_rules"]["orientations"] is True
    assert sorted(_hma_photo(env, turned)) == ["ASIS", "TURNS"]


def test_quality_gate_per_bank(env: Env) -> None:
    svc = env.service
    svc.create_bank("LENIENT")
    svc.create_bank("PICKY", match_rules={"min_quality": 95})
    buf = io.BytesIO()  # a blurred texture: PDQ quality between the two gates
    Image.open(io.BytesIO(benign_image(13))).filter(ImageFilter.GaussianBlur(6)).save(buf, "PNG")
    picture = buf.getvalue()
    fp = fingerprint_bytes(picture, "p.png")
    assert fp.pdq_quality is not None and 50 <= fp.pdq_quality < 95
    for bank in ("LENIENT", "PICKY"):
        svc.add_fingerprint(bank, fp)
    jpeg = io.BytesIO()  # the same picture as JPEG: no exact hash in common, PDQ only
    Image.open(io.BytesIO(picture)).save(jpeg, "JPEG", quality=90)
    query = jpeg.getvalue()
    quality = fingerprint_bytes(query, "q.jpg").pdq_quality
    assert quality is not None and 50 <= quality < 95
    assert list(_hma_photo(env, query)) == ["LENIENT"]
    r = env.client.post(
        "/v1/match/upload", files={"file": ("q.jpg", query)}, headers=env.lookup
    ).json()
    assert [m["bank"] for m in r["matches"]] == ["LENIENT"]
    assert r["pdq_quality_too_low"] is False  # one bank could still match it


def test_unknown_or_bad_bank_rules_are_refused(env: Env) -> None:
    with pytest.raises(Invalid, match="unknown bank match rule"):
        env.service.create_bank("X", match_rules={"pdq_treshold": 3})
    with pytest.raises(Invalid, match="min_quality"):
        env.service.create_bank("Y", match_rules={"min_quality": 101})
    r = env.client.post(
        "/v1/banks",
        json={"name": "Z", "match_rules": {"vpdq_query_share": 2}},
        headers=env.curate,
    )
    assert r.status_code == 400 and "vpdq_query_share" in r.json()["message"]
    assert env.service.store.get_bank("Z") is None


@pytest.mark.slow
def test_vpdq_shares_per_bank(env: Env) -> None:
    """The excerpt (10 s of a 60 s video) matches by query share; a bank that turns the
    query share off (index share alone, 80 % of its video) does not find it, and a bank
    with a low index share does."""
    cases = synth.video_cases()
    svc = env.service
    svc.create_bank("QUERY")  # defaults: query share 0.8, index share 0.8
    svc.create_bank("WHOLE", match_rules={"vpdq_query_share": None})
    svc.create_bank("SOME", match_rules={"vpdq_query_share": None, "vpdq_index_share": 0.1})
    known = fingerprint_bytes(cases["known"], "known.mp4")
    ids = {b: svc.add_fingerprint(b, known) for b in ("QUERY", "WHOLE", "SOME")}
    found = _v1_upload(env, cases["excerpt"], "excerpt.mp4")
    rules = {m["bank"]: m["rule"] for m in found}
    assert rules == {"QUERY": "vpdq-query-share", "SOME": "vpdq-index-share"}
    assert {m["entry_id"] for m in found} == {ids["QUERY"], ids["SOME"]}
    r = env.client.post(
        "/m/lookup", files={"video": ("excerpt.mp4", cases["excerpt"])}, headers=env.lookup
    )
    assert sorted(r.json()["vpdq"]) == ["QUERY", "SOME"]
    # Raw vPDQ signal (HMA's raw lookup): the excerpt's frames, the same banks.
    excerpt = fingerprint_bytes(cases["excerpt"], "excerpt.mp4")
    signal = ",".join(f.pdq for f in excerpt.frames)
    q = {"signal_type": "vpdq", "signal": signal}
    raw = env.client.get("/m/raw_lookup", params=q, headers=env.lookup).json()["matches"]
    assert sorted(raw) == sorted([ids["QUERY"], ids["SOME"]])


def test_cli_bank_rules(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    r = run(
        cli,
        ["platform", "bank", "create", "STRICT", "--db", db, "--pdq-threshold", "12"]
        + ["--quality-min", "70", "--no-orientations", "--vpdq-index-share", "off"],
    )
    assert r.exit_code == 0, r.output
    assert "pdq_threshold=12*" in r.output and "orientations=off*" in r.output
    assert "vpdq_index_share=off*" in r.output and "min_quality=70*" in r.output
    r = run(
        cli,
        ["platform", "bank", "config", "STRICT", "--db", db, "--vpdq-frame-distance", "20"]
        + ["--vpdq-query-share", "0.5", "--reset", "orientations"],
    )
    assert r.exit_code == 0, r.output
    r = run(cli, ["platform", "bank", "show", "STRICT", "--db", db])
    assert r.exit_code == 0, r.output
    shown = r.output.split("rules: ", 1)[1].split()
    assert shown == [
        "pdq_threshold=12*",
        "min_quality=70*",
        "orientations=on",
        "vpdq_frame_distance=20*",
        "vpdq_query_share=0.5*",
        "vpdq_index_share=off*",
        "frames_vs_images=on",
        "local_features=on",
        "local_min_inliers=24",
    ]
    r = run(cli, ["platform", "bank", "list", "--db", db])
    assert "STRICT" in r.output and "vpdq_query_share=0.5*" in r.output
    r = run(cli, ["platform", "bank", "config", "STRICT", "--db", db, "--quality-min", "101"])
    assert r.exit_code == 1 and "min_quality" in r.output
    r = run(cli, ["platform", "bank", "config", "NOPE", "--db", db, "--quality-min", "60"])
    assert r.exit_code == 1 and "not found" in r.output


def test_bank_rules_survive_a_restart(tmp_path: Path) -> None:
    """Stored with the bank: a new service on the same database applies them."""
    from tantalio.platform import PlatformConfig, PlatformService

    db = f"sqlite:///{tmp_path / 'p.db'}"
    svc = PlatformService(PlatformConfig(db_url=db, run_workers=False))
    svc.create_bank("B", match_rules={"min_quality": 90, "vpdq_index_share": None})
    svc.store.close()
    again = PlatformService(PlatformConfig(db_url=db, run_workers=False))
    again.start(background=False)
    try:
        rules = again.rules_of("B")
        assert (rules.min_quality, rules.vpdq_index_share) == (90, None)
        assert again.rules_of("B").vpdq_query_share == 0.8  # the server's, unset here
        token = secrets.token_hex(32)
        assert again.lookup("pdq", token) == []
    finally:
        again.close()
