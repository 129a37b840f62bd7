"""Signal for Android `signal.db`: SQLCipher opened with the examiner's key only."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tantalio.chats.keys import KeyRing
from tantalio.chats.record import ChatRecords
from tantalio.chats.registry import parse_exhibit, wants

DATA = Path(__file__).resolve().parents[1] / "data" / "chat_apps"
SIGNAL = DATA / "signal"
DB = "data/data/org.thoughtcrime.securesms/databases/signal.db"
KEY = SIGNAL / "keys" / "signal.hex"


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return dict(json.loads((DATA / "facts.json").read_text())["signal"])


@pytest.fixture(scope="module")
def out() -> ChatRecords:
    return parse_exhibit(SIGNAL / "phone", keys=KeyRing.parse([str(KEY)]))


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


def test_decrypted_equals_the_plain_database(out: ChatRecords) -> None:
    plain = parse_exhibit(SIGNAL / "plain")
    assert _facts(out) == _facts(plain)
    assert out.accounts.keys() == plain.accounts.keys()


def test_accounts_group_and_owner(out: ChatRecords, facts: dict[str, Any]) -> None:
    acc = facts["accounts"]
    assert [a.key for a in out.accounts.values() if a.is_owner] == [facts["owner"]]
    assert out.accounts[acc["alice"]].names == ["Alice Ames", "Alice A"]
    assert out.accounts[acc["alice"]].phone == "+12025550101"
    assert out.accounts[acc["carol"]].names == ["Carol", "@carol.01"]
    group = out.groups[facts["group"]]
    assert group.subject == "Garden Signal"
    members = {a for g, a in out.memberships if g == facts["group"]}
    assert members == set(acc.values())
    assert out.memberships[(facts["group"], acc["dave"])].left_how == "left"


def test_messages_and_attachment_hashes(out: ChatRecords, facts: dict[str, Any]) -> None:
    acc = facts["accounts"]
    album = [m for m in out.messages if m.media]
    assert [(m.sender, m.media.sha256, m.media.file_name) for m in album if m.media] == [
        (acc["bob"], facts["photo_sha256"], "allotment1.jpg"),
        (acc["bob"], facts["other_sha256"], "allotment2.jpg"),
    ]
    mine = [m.text for m in out.messages if m.from_me]
    assert mine == ["Lovely!", "Hi Alice"]
    direct = [m for m in out.messages if m.chat == acc["alice"]]
    assert [m.sender for m in direct] == [acc["alice"], facts["owner"]]
    assert [m.system for m in out.messages if m.system] == ["other", "left"]
    first = out.messages[0]
    assert first.key_id == "1704103201000"  # date_sent: the same on every phone holding it
    assert ("telegram_invite", "t.me/+SignalGardenX1") in {(a.kind, a.value) for a in out.artifacts}
    [warning] = out.warnings
    assert warning.message == "1 messages in threads the database lacks skipped"


def test_key_use_is_recorded_and_nothing_left_beside_the_evidence(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(SIGNAL / "phone", phone)
    before = _tree(phone)
    ring = KeyRing.parse([f"*signal.db={KEY}"])
    out = parse_exhibit(phone, keys=ring)
    assert len(out.messages) == 8
    assert _tree(phone) == before
    assert ring.used == [(DB, ring.keys[0].fingerprint)]
    assert out.sources == [
        f"{DB} (signal_android) decrypted (signal (SQLCipher 4, kdf_iter 1)), key "
        f"{ring.keys[0].fingerprint}"
    ]


def test_never_read_without_its_key() -> None:
    out = parse_exhibit(SIGNAL / "phone")
    [warning] = out.warnings
    assert warning.where == DB and "--key" in warning.message
    assert out.messages == []


def test_wrong_key_is_a_clear_error_and_the_rest_of_the_phone_is_read(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(SIGNAL / "phone", phone)
    shutil.copytree(DATA / "telegram" / "data", phone / "data", dirs_exist_ok=True)
    out = parse_exhibit(phone, keys=KeyRing.parse(["ab" * 32]))
    wrong = [w for w in out.warnings if w.where == DB]
    assert len(wrong) == 1 and wrong[0].message.startswith("wrong key: key ")
    assert any(m.chat.startswith("telegram:") for m in out.messages)  # Telegram still read


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b[:5000], "damaged or truncated SQLCipher database"),
        (lambda b: b[:20000] + bytes([b[20000] ^ 1]) + b[20001:], "but damaged"),  # page HMAC
        (lambda b: b"\x00" * len(b), "wrong key"),  # not SQLCipher at all: nothing opens it
    ],
    ids=["truncated", "tampered", "garbled"],
)
def test_damaged_database_is_a_warning_never_data(
    damage: Any, expected: str, tmp_path: Path
) -> None:
    phone = tmp_path / "phone"
    (phone / "databases").mkdir(parents=True)
    data = damage((SIGNAL / "phone" / DB).read_bytes())
    (phone / "databases" / "signal.db").write_bytes(data)
    out = parse_exhibit(phone, keys=KeyRing.parse([str(KEY)]))
    [warning] = out.warnings
    assert warning.where == "databases/signal.db"
    assert expected in warning.message
    assert out.messages == [] and out.accounts == {}


def test_signal_db_is_wanted() -> None:
    assert wants(DB) and wants(DB + "-wal")
