"""Encrypted WhatsApp backups (crypt14/crypt15): opened with the examiner's key only."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tantalio.chats.keys import ChatKeyError, KeyRing, read_key
from tantalio.chats.record import ChatRecords
from tantalio.chats.registry import parse_exhibit, wants
from tantalio.cli.main import app
from tantalio.store.auth import AuditEvent
from tantalio.store.workspace import init_workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "chat_apps" / "whatsapp_backup"
PHONE = DATA / "phone"
BACKUPS = PHONE / "sdcard" / "WhatsApp" / "Databases"
CRYPT15 = "sdcard/WhatsApp/Databases/msgstore.db.crypt15"
CRYPT14 = "sdcard/WhatsApp/Databases/msgstore-2021-01-20.1.db.crypt14"


def _facts(out: ChatRecords) -> list[tuple[Any, ...]]:
    return [
        (m.chat, m.sender, m.timestamp, m.text, m.system, m.media.sha256 if m.media else None)
        for m in out.messages
    ]


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def plain() -> ChatRecords:
    out = parse_exhibit(DATA / "plain")
    assert len(out.messages) > 10 and out.warnings == []
    return out


def _only(tmp_path: Path, name: str, data: bytes | None = None) -> Path:
    phone = tmp_path / "phone"
    (phone / "Databases").mkdir(parents=True)
    (phone / "Databases" / name).write_bytes(
        data if data is not None else (BACKUPS / name).read_bytes()
    )
    return phone


@pytest.mark.parametrize("key", ["encrypted_backup.key", "crypt15.hex"])
def test_crypt15_decrypts_to_the_plain_database(
    plain: ChatRecords, key: str, tmp_path: Path
) -> None:
    phone = _only(tmp_path, "msgstore.db.crypt15")
    before = _tree(phone)
    ring = KeyRing.parse([str(DATA / "keys" / key)])
    out = parse_exhibit(phone, keys=ring)
    assert out.warnings == []
    assert _facts(out) == _facts(plain)
    assert out.groups.keys() == plain.groups.keys()
    assert _tree(phone) == before  # nothing decrypted beside the evidence
    assert ring.used == [("Databases/msgstore.db.crypt15", ring.keys[0].fingerprint)]
    assert out.sources[0].endswith(f"from crypt15, key {ring.keys[0].fingerprint}")


def test_crypt15_hex_given_on_the_command_line(plain: ChatRecords, tmp_path: Path) -> None:
    hex_key = (DATA / "keys" / "crypt15.hex").read_text().strip()
    out = parse_exhibit(_only(tmp_path, "msgstore.db.crypt15"), keys=KeyRing.parse([hex_key]))
    assert _facts(out) == _facts(plain)


def test_crypt14_with_its_key_file(plain: ChatRecords, tmp_path: Path) -> None:
    name = "msgstore-2021-01-20.1.db.crypt14"
    out = parse_exhibit(_only(tmp_path, name), keys=KeyRing.parse([str(DATA / "keys" / "key")]))
    assert out.warnings == []
    assert _facts(out) == _facts(plain)


def test_keys_tied_to_files_by_pattern(plain: ChatRecords) -> None:
    ring = KeyRing.parse(
        [f"*.crypt14={DATA / 'keys' / 'key'}", f"*.crypt15={DATA / 'keys' / 'crypt15.hex'}"]
    )
    out = parse_exhibit(PHONE, keys=ring)
    assert out.warnings == []
    assert len(out.messages) == 2 * len(plain.messages)
    assert {label for label, _fp in ring.used} == {CRYPT14, CRYPT15}


def test_never_read_without_a_key() -> None:
    out = parse_exhibit(PHONE)
    assert out.messages == []
    assert {w.where for w in out.warnings} == {CRYPT14, CRYPT15}
    assert all("--key" in w.message for w in out.warnings)


def test_wrong_key_is_a_clear_error_and_the_rest_of_the_phone_is_read(
    plain: ChatRecords, tmp_path: Path
) -> None:
    phone = _only(tmp_path, "msgstore.db.crypt15")
    shutil.copytree(DATA / "plain" / "databases", phone / "databases")
    ring = KeyRing.parse([str(DATA / "keys" / "wrong.hex")])
    out = parse_exhibit(phone, keys=ring)
    [warning] = out.warnings
    assert warning.where == "Databases/msgstore.db.crypt15"
    assert warning.message.startswith("wrong key: key ") and "does not open" in warning.message
    assert _facts(out) == _facts(plain)  # the phone's own msgstore.db still read
    assert ring.used == []


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b[: len(b) - 100], "truncated or altered"),
        (lambda b: b[:2000] + bytes([b[2000] ^ 1]) + b[2001:], "truncated or altered"),
        (lambda b: b[:40], "truncated"),
        (lambda b: b"\x05\x01garbage-not-a-backup", "malformed backup header"),
    ],
    ids=["truncated", "tampered", "cut-short", "garbled-header"],
)
def test_damaged_backup_is_reported_never_read(damage: Any, expected: str, tmp_path: Path) -> None:
    data = damage((BACKUPS / "msgstore.db.crypt15").read_bytes())
    phone = _only(tmp_path, "msgstore.db.crypt15", data)
    out = parse_exhibit(phone, keys=KeyRing.parse([str(DATA / "keys" / "crypt15.hex")]))
    assert out.messages == [] and out.groups == {}
    [warning] = out.warnings
    assert warning.where == "Databases/msgstore.db.crypt15"
    assert expected in warning.message


def test_key_values_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ChatKeyError, match="neither 64 hex digits nor a key file"):
        read_key("abc")
    junk = tmp_path / "junk.key"
    junk.write_bytes(b"not a key")
    with pytest.raises(ChatKeyError, match="junk.key: not a WhatsApp key file"):
        read_key(str(junk))
    assert (
        read_key(str(DATA / "keys" / "encrypted_backup.key")).key32
        == read_key(str(DATA / "keys" / "crypt15.hex")).key32
    )


def test_backups_are_wanted_by_the_ingest() -> None:
    assert wants("sdcard/WhatsApp/Databases/msgstore.db.crypt15")
    assert wants("sdcard/WhatsApp/Databases/msgstore-2024-01-02.1.db.crypt14")


def test_cli_import_with_key_is_audited_and_never_stores_the_key(tmp_path: Path) -> None:
    hex_key = (DATA / "keys" / "crypt15.hex").read_text().strip()
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    phone = _only(tmp_path, "msgstore.db.crypt15")
    result = runner.invoke(
        app, ["chats", "import", "C", str(phone), "--key", hex_key, "-w", str(ws)]
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    with init_workspace(ws) as w, w.session() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "chats.decrypt")).all()
        assert json.loads(event.detail or "{}")["file"] == "Databases/msgstore.db.crypt15"
    stored = b"".join(p.read_bytes() for p in ws.rglob("*") if p.is_file())
    assert bytes.fromhex(hex_key) not in stored and hex_key.encode() not in stored
    bad = runner.invoke(app, ["chats", "import", "C", str(phone), "--key", "0bad", "-w", str(ws)])
    assert bad.exit_code != 0 and "--key" in bad.output


def test_ingest_takes_chat_keys_by_pattern(tmp_path: Path) -> None:
    hex15 = (DATA / "keys" / "crypt15.hex").read_text().strip()
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    args = ["ingest", "K", str(PHONE), "--jobs", "1", "-w", str(ws), "--no-progress"]
    result = runner.invoke(app, [*args, "--chat-key", f"*.crypt15={hex15}"])
    assert result.exit_code == 0, result.output
    assert f"warning: {CRYPT14}: encrypted WhatsApp backup not read" in result.output
    assert CRYPT15 not in result.output  # opened with its key
    assert "15 messages" in result.output
    stored = b"".join(p.read_bytes() for p in ws.rglob("*") if p.is_file())
    assert bytes.fromhex(hex15) not in stored and hex15.encode() not in stored
    bad = runner.invoke(app, [*args, "--chat-key", "*.crypt15=/no/such/key"])
    assert bad.exit_code == 2 and "--chat-key" in bad.output  # a refused option value
