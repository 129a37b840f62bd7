"""Ed25519-signed distribution lists: publish, verify, and refuse every kind of tampering."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hashset_samples import DATA, md5, pdq, sha1

from tantalio.hashsets import HashEntry, HashSetFormatError, import_entries
from tantalio.hashsets.signed import (
    SignatureMismatchError,
    SignedListError,
    UnsignedListError,
    UntrustedKeyError,
    generate_keypair,
    key_id,
    load_private_key,
    publish,
    save_private_key,
    save_public_key,
    verify_and_read,
)

CREATED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _entries() -> list[HashEntry]:
    return [
        HashEntry(md5=md5("s1"), sha1=sha1("s1"), category=1, series="Lighthouse",
                  victim_identified=False, original_id="C-1", tags=["baseline"],
                  added_at=datetime(2024, 1, 1, tzinfo=UTC)),
        HashEntry(pdq=pdq("s2"), category=2, comments="ünïcode stays exact"),
        HashEntry(vpdq=[f"{pdq('f0')},100,0.000", f"{pdq('f1')},80,1.000"], category=1),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def keys():  # type: ignore[no-untyped-def]
    return generate_keypair()


@pytest.fixture(scope="module")
def document(keys) -> bytes:  # type: ignore[no-untyped-def]
    private, _ = keys
    return publish(_entries(), private, "Baseline", "Central DB", created=CREATED)


def _edit(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode()


def test_publish_then_verify(keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    _, public = keys
    result = verify_and_read(document, [public])
    assert (result.name, result.issuer, result.created) == ("Baseline", "Central DB", CREATED)
    assert result.signed and result.key_id == key_id(public)
    assert result.entries == _entries()
    assert result.warnings == []


def test_reformatting_the_json_does_not_break_the_signature(keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    _, public = keys
    pretty = json.dumps(json.loads(document), indent=2, ensure_ascii=True).encode()
    assert verify_and_read(pretty, [public]).entries == _entries()


def test_modified_entry_is_refused(keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    _, public = keys

    def downgrade(doc: dict) -> None:  # type: ignore[type-arg]
        doc["payload"]["entries"][0]["category"] = 0  # hide it as non-pertinent

    with pytest.raises(SignatureMismatchError, match="modified"):
        verify_and_read(_edit(document, downgrade), [public])

    def drop(doc: dict) -> None:  # type: ignore[type-arg]
        del doc["payload"]["entries"][1]

    with pytest.raises(SignatureMismatchError):
        verify_and_read(_edit(document, drop), [public])


def test_modified_signature_is_refused(keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    _, public = keys

    def flip(doc: dict) -> None:  # type: ignore[type-arg]
        raw = bytearray(base64.b64decode(doc["signature"]["value"]))
        raw[0] ^= 1
        doc["signature"]["value"] = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(SignatureMismatchError):
        verify_and_read(_edit(document, flip), [public])

    def garble(doc: dict) -> None:  # type: ignore[type-arg]
        doc["signature"]["value"] = "not base64!"

    with pytest.raises(SignatureMismatchError, match="base64"):
        verify_and_read(_edit(document, garble), [public])


def test_wrong_key_is_refused(document: bytes) -> None:
    _, stranger = generate_keypair()
    with pytest.raises(UntrustedKeyError, match="not a trusted key"):
        verify_and_read(document, [stranger])
    with pytest.raises(UntrustedKeyError, match="no trusted public keys"):
        verify_and_read(document, [])


def test_list_signed_by_another_key_claiming_a_trusted_key_id(keys) -> None:  # type: ignore[no-untyped-def]
    _, public = keys
    forger, _ = generate_keypair()
    forged = _edit(
        publish(_entries(), forger, "Baseline", "Central DB"),
        lambda doc: doc["signature"].update(key_id=key_id(public)),
    )
    with pytest.raises(SignatureMismatchError):
        verify_and_read(forged, [public])


def test_unsigned_list_refused_unless_allowed(keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    _, public = keys
    unsigned = publish(_entries(), None, "Baseline", "Central DB", created=CREATED)
    with pytest.raises(UnsignedListError, match="not signed"):
        verify_and_read(unsigned, [public])
    result = verify_and_read(unsigned, [], allow_unsigned=True)
    assert not result.signed and result.entries == _entries()
    stripped = _edit(document, lambda doc: doc.pop("signature"))
    with pytest.raises(UnsignedListError):
        verify_and_read(stripped, [public])
    # allow_unsigned admits a missing signature, never a wrong one.
    tampered = _edit(document, lambda doc: doc["payload"].update(name="Other"))
    with pytest.raises(SignatureMismatchError):
        verify_and_read(tampered, [public], allow_unsigned=True)


def test_not_a_signed_list() -> None:
    with pytest.raises(SignedListError, match="not UTF-8 JSON"):
        verify_and_read(b"\x00garbage", [])
    with pytest.raises(SignedListError, match="'format' is not"):
        verify_and_read(b'{"value": []}', [])


def test_keys_round_trip_through_pem(tmp_path: Path, keys, document: bytes) -> None:  # type: ignore[no-untyped-def]
    private, public = keys
    save_private_key(private, tmp_path / "k.pem", password=b"correct horse")
    save_public_key(public, tmp_path / "k.pub.pem")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    again = load_private_key(tmp_path / "k.pem", password=b"correct horse")
    assert key_id(again.public_key()) == key_id(public)
    for form in (tmp_path / "k.pub.pem", (tmp_path / "k.pub.pem").read_bytes()):
        assert verify_and_read(document, [form]).signed  # path or PEM bytes
    with pytest.raises(ValueError):
        load_private_key(tmp_path / "k.pem", password=b"wrong")


def test_committed_sample_verifies_with_its_public_key() -> None:
    result = verify_and_read(
        (DATA / "signed_list.json").read_bytes(), [DATA / "signed_list_pub.pem"]
    )
    assert result.name == "Baseline stand-in" and len(result.entries) == 2


def test_registered_format_takes_trusted_keys(
    tmp_path: Path,
    keys,
    document: bytes,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    _, public = keys
    path = tmp_path / "list.json"
    path.write_bytes(document)
    entries, warnings = import_entries(path, "tantalio-signed", trusted_keys=[public])
    assert list(entries) == _entries() and warnings == []
    # Without keys the import is refused with the reason.
    monkeypatch.delenv("TANTALIO_TRUSTED_KEYS", raising=False)
    with pytest.raises(HashSetFormatError, match="no trusted public keys"):
        list(import_entries(path, "tantalio-signed")[0])
    # Keys may come from the environment: PEM paths.
    save_public_key(public, tmp_path / "trusted.pem")
    monkeypatch.setenv("TANTALIO_TRUSTED_KEYS", str(tmp_path / "trusted.pem"))
    entries, _ = import_entries(path, None)  # format detected
    assert len(list(entries)) == 3


def test_invalid_entries_in_a_signed_list_are_reported(keys) -> None:  # type: ignore[no-untyped-def]
    private, public = keys
    data = publish([HashEntry(md5=md5("ok"))], private, "L", "I")
    doc = json.loads(data)
    doc["payload"]["entries"].append({"md5": "xyz"})
    doc["payload"]["entries"].append({"comments": "no hash"})
    from tantalio.hashsets.signed import DOMAIN, canonical

    doc["signature"]["value"] = base64.b64encode(
        private.sign(DOMAIN + canonical(doc["payload"]))
    ).decode()
    result = verify_and_read(json.dumps(doc).encode(), [public], source="l.json")
    assert [e.md5 for e in result.entries] == [md5("ok")]
    assert [(w.where, w.field) for w in result.warnings] == [
        ("l.json:record 2", "md5"),
        ("l.json:record 3", "md5"),
    ]
