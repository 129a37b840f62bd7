#!/usr/bin/env python3
"""Build the synthetic fixtures of the other chat sources under tests/data/chat_apps/ (issue 15).

Everything is invented and benign (numbers reserved for fiction, US 555-01xx; generated
keys; `.onion` hosts that do not exist). Sources:

- `whatsapp_backup/`: the unit world's Android `msgstore.db` (tests/data/chats, made by
  make_chat_fixtures.py) checkpointed into one file, then encrypted as a crypt14 and a
  crypt15 backup with generated keys, and the key files as WhatsApp writes them;
- `telegram/`: an Android `cache4.db` with the real tables and TL-serialized blobs;
- `signal/`: an Android `signal.db` encrypted with SQLCipher (Signal's settings), its key;
- `browsing/`: Tor Browser `places.sqlite` and Chromium `History`, with the saved page of an
  onion site listing a Telegram invite.

Usage: .venv/bin/python scripts/make_chat_app_fixtures.py [OUT_DIR]  (default tests/data/chat_apps)
"""

# ruff: noqa: E501  (SQL statements of the real schemas read better unbroken)
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
import tempfile
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tantalio.chats.keys import JAVA_BYTE_ARRAY
from tantalio.chats.wacrypt import crypt15_key

ROOT = Path(__file__).resolve().parents[1]
UNIT_ANDROID = ROOT / "tests" / "data" / "chats" / "unit" / "android" / "databases"


def seeded(label: str, n: int = 32) -> bytes:
    """Deterministic bytes, so regenerating the fixtures changes nothing."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]


# ------------------------------------------------------------------ WhatsApp crypt14/15
def _pb_bytes(field: int, data: bytes) -> bytes:
    assert len(data) < 128
    return bytes([field << 3 | 2, len(data)]) + data


def _pb_varint(field: int, value: int) -> bytes:
    assert value < 128
    return bytes([field << 3, value])


def java_key_file(payload: bytes) -> bytes:
    return JAVA_BYTE_ARRAY + len(payload).to_bytes(4, "big") + payload


def backup(plain: bytes, version: str, key32: bytes, iv: bytes, salt: bytes = b"") -> bytes:
    """A crypt14/crypt15 container of `plain` (the layout wacrypt.py documents)."""
    if version == "crypt15":
        prefix = _pb_varint(1, 1) + _pb_bytes(3, _pb_bytes(1, iv))
        aes = crypt15_key(key32)
    else:
        c14 = (
            _pb_bytes(1, b"\x00\x01")
            + _pb_bytes(2, b"\x01")
            + _pb_bytes(3, salt)
            + _pb_bytes(4, seeded("google id", 16))
            + _pb_bytes(5, iv)
        )
        prefix = _pb_varint(1, 0) + _pb_bytes(2, c14)
        aes = key32
    head = bytes([len(prefix), 0x01]) + prefix
    body = head + AESGCM(aes).encrypt(iv, zlib.compress(plain, 6), None)
    return body + hashlib.md5(body, usedforsecurity=False).digest()


def checkpointed(db: Path) -> bytes:
    """`db` with its -wal folded in: a backup holds one self-contained database."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        conn = sqlite3.connect(copy)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
        return copy.read_bytes()


def write_whatsapp_backups(dest: Path) -> None:
    plain = checkpointed(UNIT_ANDROID / "msgstore.db")
    (dest / "plain" / "databases").mkdir(parents=True, exist_ok=True)
    (dest / "plain" / "databases" / "msgstore.db").write_bytes(plain)
    shutil.copyfile(UNIT_ANDROID / "wa.db", dest / "plain" / "databases" / "wa.db")
    phone = dest / "phone" / "sdcard" / "WhatsApp" / "Databases"
    phone.mkdir(parents=True, exist_ok=True)
    keys = dest / "keys"
    keys.mkdir(exist_ok=True)
    root15 = seeded("crypt15 root key")
    (phone / "msgstore.db.crypt15").write_bytes(
        backup(plain, "crypt15", root15, seeded("crypt15 iv", 16))
    )
    (keys / "encrypted_backup.key").write_bytes(java_key_file(root15))
    (keys / "crypt15.hex").write_text(root15.hex() + "\n")
    key14 = seeded("crypt14 key")
    salt = seeded("crypt14 server salt")
    (phone / "msgstore-2021-01-20.1.db.crypt14").write_bytes(
        backup(plain, "crypt14", key14, seeded("crypt14 iv", 16), salt)
    )
    key_file = (
        b"\x00\x01\x01"
        + salt
        + seeded("google id salt", 16)
        + seeded("hashed google id", 32)
        + seeded("crypt14 key iv", 16)
        + key14
    )
    (keys / "key").write_bytes(java_key_file(key_file))
    (dest / "keys" / "wrong.hex").write_text(seeded("not the key").hex() + "\n")


def main(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_whatsapp_backups(out / "whatsapp_backup")
    facts: dict[str, object] = {}
    (out / "facts.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "chat_apps")
