"""`tantalio hashset subscribe|pull|subscriptions` as an examiner runs them: a real
workspace, real files ingested, a folder of signed deltas."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair, save_public_key

runner = CliRunner()


def _write(folder: Path, private, seq: int, prev: str, **changes) -> str:
    payload = deltas.build_payload("worst", "central", seq, prev, **changes)
    (folder / f"{seq:06d}.json").write_bytes(deltas.sign_payload(payload, private))
    return deltas.payload_digest(payload)


def test_subscribe_pull_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANTALIO_DB", raising=False)
    ws, evidence, folder = tmp_path / "ws", tmp_path / "phone", tmp_path / "list"
    evidence.mkdir()
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(2):
        pixels = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((256, 256)).save(evidence / f"texture{i}.png")
    known_md5 = hashlib.md5((evidence / "texture0.png").read_bytes()).hexdigest()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    result = runner.invoke(app, ["ingest", "OP-1", str(evidence), "-w", str(ws)])
    assert result.exit_code == 0, result.output

    private, public = generate_keypair()
    save_public_key(public, tmp_path / "issuer.pem")
    _write(folder, private, 1, "", add=[HashEntry(md5=known_md5, category=1)])
    result = runner.invoke(
        app,
        ["hashset", "subscribe", str(folder), "--name", "worst",
         "--trusted-key", str(tmp_path / "issuer.pem"), "-w", str(ws)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "subscribed hash set 'worst'" in result.output
    assert "applied deltas 1-1 of list 'worst': 1 added, 0 retracted, 1 verdicts changed" in (
        result.output
    )
    assert "texture0.png: new → known" in result.output

    result = runner.invoke(app, ["hashset", "pull", "-w", str(ws)])
    assert result.exit_code == 0 and "up to date at delta 1" in result.output

    (folder / "000003.json").write_bytes((folder / "000001.json").read_bytes().replace(
        b'"seq":1', b'"seq":3'))  # fmt: skip
    result = runner.invoke(app, ["hashset", "pull", "-w", str(ws)])
    assert result.exit_code == 1
    assert "stopped at delta 1" in result.output

    listed = runner.invoke(app, ["hashset", "subscriptions", "-w", str(ws)])
    assert "worst: list 'worst'" in listed.output and "delta 1" in listed.output
    assert "last error" in listed.output
