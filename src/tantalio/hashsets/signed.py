"""Signed distribution lists: how a central database shares a "Baseline"-style hash list
with industry without sending media (issue 6), signed with Ed25519.

Document (UTF-8 JSON):

    {"format": "tantalio-signed-hashlist",
     "payload": {"format": ..., "version": 1, "name": ..., "issuer": ..., "created": ISO-Z,
                 "description": ..., "entries": [{"md5": ..., "category": 1, ...}, ...]},
     "signature": {"algorithm": "ed25519", "key_id": <16 hex>, "value": <base64>}}

The signature covers `DOMAIN + canonical(payload)`, where canonical is JSON with sorted keys,
no spaces, UTF-8, no floats. It is computed over the *parsed* payload, so what is verified
is exactly what is used (duplicate keys or re-indentation cannot smuggle in other data).
`key_id` is a hint only: every trusted key is tried before a list is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tantalio.hashsets.base import HashSetFormatError
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.validate import (
    format_date,
    has_hash,
    normalize_hex,
    normalize_photodna,
    normalize_vpdq_frame,
    parse_date,
    parse_flag,
)

FORMAT_ID = "tantalio-signed-hashlist"
VERSION = 1
DOMAIN = b"tantalio-signed-hashlist/v1\n"
_HEX_FIELDS = ("md5", "sha1", "sha256", "pdq")
_TEXT_FIELDS = ("source_category", "series", "comments", "original_id")
_FLAG_FIELDS = ("victim_identified", "offender_identified", "is_distributed")

PublicKeyLike = Ed25519PublicKey | bytes | str | Path


class SignedListError(HashSetFormatError):
    """A signed list that must not be used; subclasses say why."""


class UnsignedListError(SignedListError):
    """The list carries no signature (accepted only with `allow_unsigned=True`)."""


class SignatureMismatchError(SignedListError):
    """The signature does not verify: the list or the signature was changed after signing."""


class UntrustedKeyError(SignedListError):
    """The list was signed by a key that is not among the trusted ones (or none were given)."""


@dataclass(slots=True)
class SignedList:
    """A verified (or knowingly unsigned) list. `warnings` name entries that were invalid."""

    name: str
    issuer: str
    created: datetime | None
    entries: list[HashEntry]
    description: str | None = None
    signed: bool = True
    key_id: str | None = None
    warnings: list[ParseWarning] = field(default_factory=list)


# -- keys -------------------------------------------------------------------------------
def generate_keypair() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    private = Ed25519PrivateKey.generate()
    return private, private.public_key()


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint of a public key: first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def save_private_key(
    key: Ed25519PrivateKey, path: str | Path, password: bytes | None = None
) -> None:
    """PKCS#8 PEM, encrypted when `password` is given; the file is created mode 0600."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def save_public_key(key: Ed25519PublicKey, path: str | Path) -> None:
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    Path(path).write_bytes(pem)


def load_private_key(
    source: bytes | str | Path, password: bytes | None = None
) -> Ed25519PrivateKey:
    """From PEM bytes or a PEM file path."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(source: PublicKeyLike) -> Ed25519PublicKey:
    """From a key object, PEM bytes, 32 raw bytes, or a PEM file path."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, bytes) and len(source) == 32:
        return Ed25519PublicKey.from_public_bytes(source)
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


# -- writing ----------------------------------------------------------------------------
def canonical(payload: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no blanks, UTF-8; floats refused."""
    _refuse_floats(payload)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def entry_to_dict(entry: HashEntry) -> dict[str, Any]:
    """An entry as the list stores it: only the fields that have a value."""
    out: dict[str, Any] = {}
    for name in (*_HEX_FIELDS, "photodna"):
        if value := getattr(entry, name):
            out[name] = value
    if entry.vpdq:
        out["vpdq"] = list(entry.vpdq)
    if entry.category is not None:
        out["category"] = entry.category
    for name in (*_TEXT_FIELDS, *_FLAG_FIELDS):
        if (value := getattr(entry, name)) is not None:
            out[name] = value
    if entry.tags:
        out["tags"] = list(entry.tags)
    if entry.added_at is not None:
        out["added_at"] = format_date(entry.added_at)
    if entry.pdq_trimmed:
        out["pdq_trimmed"] = entry.pdq_trimmed
    if entry.local_features:
        out["local_features"] = entry.local_features
    return out


def publish(
    entries: Iterable[HashEntry],
    private_key: Ed25519PrivateKey | None,
    name: str,
    issuer: str,
    *,
    created: datetime | None = None,
    description: str | None = None,
) -> bytes:
    """The signed list document as bytes. `private_key=None` writes an unsigned list (which
    `verify_and_read` refuses unless told otherwise)."""
    payload: dict[str, Any] = {
        "format": FORMAT_ID,
        "version": VERSION,
        "name": name,
        "issuer": issuer,
        "created": format_date(created or datetime.now(UTC)),
        "entries": [entry_to_dict(e) for e in entries],
    }
    if description is not None:
        payload["description"] = description
    document: dict[str, Any] = {"format": FORMAT_ID, "payload": payload}
    if private_key is not None:
        signature = private_key.sign(DOMAIN + canonical(payload))
        document["signature"] = {
            "algorithm": "ed25519",
            "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(signature).decode("ascii"),
        }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- reading ----------------------------------------------------------------------------
def verify_and_read(
    data: bytes,
    public_keys: Iterable[PublicKeyLike],
    allow_unsigned: bool = False,
    source: str = "signed list",
) -> SignedList:
    """Verify `data` against the trusted `public_keys` and return its entries.

    Raises `UnsignedListError` (no signature, unless `allow_unsigned`), `UntrustedKeyError`
    (no trusted key verifies it and it names another key, or no keys were given),
    `SignatureMismatchError` (the named trusted key does not verify it: tampered), and
    `SignedListError` for a document that is not a signed list at all.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignedListError(source, f"not a signed list: not UTF-8 JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_ID:
        raise SignedListError(source, f"not a signed list: 'format' is not {FORMAT_ID!r}")
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise SignedListError(source, "not a signed list: no 'payload' object")
    signature = document.get("signature")
    used_key: str | None = None
    if signature is None:
        if not allow_unsigned:
            raise UnsignedListError(
                source, "the list is not signed; refused (allow_unsigned=False)"
            )
    else:
        used_key = _verify(payload, signature, [load_public_key(k) for k in public_keys], source)
    return _read_payload(payload, source, signed=signature is not None, used_key=used_key)


def _verify(
    payload: dict[str, Any],
    signature: object,
    keys: list[Ed25519PublicKey],
    source: str,
    *,
    domain: bytes = DOMAIN,
    what: str = "list",
) -> str:
    """The id of the trusted key whose signature over `domain + canonical(payload)` holds;
    else the refusal that says why (`what` names the document in the messages)."""
    if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
        raise SignatureMismatchError(source, "signature block is not an ed25519 signature")
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except ValueError:
        raise SignatureMismatchError(source, "signature value is not base64") from None
    if not keys:
        raise UntrustedKeyError(source, f"no trusted public keys were given to verify the {what}")
    try:
        message = domain + canonical(payload)
    except ValueError as exc:
        raise SignatureMismatchError(source, f"payload cannot be canonicalised: {exc}") from None
    named = str(signature.get("key_id", ""))
    # The named key first; then the others (the key id itself is not signed).
    for key in sorted(keys, key=lambda k: key_id(k) != named):
        try:
            key.verify(value, message)
        except InvalidSignature:
            continue
        return key_id(key)
    if any(key_id(k) == named for k in keys):
        raise SignatureMismatchError(
            source, f"signature does not verify with trusted key {named}: the {what} was modified"
        )
    raise UntrustedKeyError(source, f"signed by key {named or '?'}, which is not a trusted key")


def _read_payload(
    payload: dict[str, Any], source: str, signed: bool, used_key: str | None
) -> SignedList:
    if payload.get("format") != FORMAT_ID or payload.get("version") != VERSION:
        raise SignedListError(source, f"unsupported list version {payload.get('version')!r}")
    entries_raw = payload.get("entries")
    if not isinstance(entries_raw, list):
        raise SignedListError(source, "payload has no 'entries' list")
    try:
        created = parse_date(payload.get("created"))
    except ValueError:
        created = None
    result = SignedList(
        name=str(payload.get("name", "")),
        issuer=str(payload.get("issuer", "")),
        created=created,
        entries=[],
        description=payload.get("description"),
        signed=signed,
        key_id=used_key,
    )
    for number, raw in enumerate(entries_raw, 1):
        where = f"{source}:record {number}"
        entry, problem = entry_from_dict(raw)
        if entry is None:
            result.warnings.append(ParseWarning(where, problem[0], f"{problem[1]}; record skipped"))
        else:
            result.entries.append(entry)
    return result


def entry_from_dict(raw: object) -> tuple[HashEntry | None, tuple[str | None, str]]:
    """(entry, ("", "")) or (None, (field, problem)) for one stored entry."""
    if not isinstance(raw, dict):
        return None, (None, "entry is not an object")
    entry = HashEntry()
    try:
        for name in _HEX_FIELDS:
            if raw.get(name):
                setattr(entry, name, normalize_hex(name, raw[name]))
        if raw.get("photodna"):
            entry.photodna = normalize_photodna(raw["photodna"])
        if raw.get("vpdq"):
            entry.vpdq = [normalize_vpdq_frame(f) for f in raw["vpdq"]]
    except (ValueError, TypeError) as exc:
        return None, (_field_of(raw, exc), str(exc))
    if not has_hash(entry):
        return None, ("md5", "entry has no hash")
    category = raw.get("category")
    if category is not None and (not isinstance(category, int) or not 0 <= category <= 4):
        return None, ("category", f"category {category!r} is not a VICS 2.0 code 0..4")
    entry.category = category
    for name in _TEXT_FIELDS:
        if raw.get(name) is not None:
            setattr(entry, name, str(raw[name]))
    for name in _FLAG_FIELDS:
        try:
            setattr(entry, name, parse_flag(raw.get(name)))
        except ValueError as exc:
            return None, (name, str(exc))
    entry.tags = [str(t) for t in raw.get("tags") or []]
    try:
        entry.added_at = parse_date(raw.get("added_at"))
    except ValueError as exc:
        return None, ("added_at", str(exc))
    return _reference_signals(entry, raw)


def _reference_signals(
    entry: HashEntry, raw: dict[str, Any]
) -> tuple[HashEntry | None, tuple[str | None, str]]:
    """A reference file's trimmed PDQ and local features (issue 13), checked as the signal
    registry checks them: a value that does not parse refuses the record, never silently
    drops the signal."""
    from tantalio.signals import registry
    from tantalio.signals.base import SignalError

    for name, signal in (("pdq_trimmed", "pdq-trimmed"), ("local_features", "local-features")):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            return None, (name, f"{name} must be a string")
        try:
            setattr(entry, name, registry.normalize(signal, value))
        except SignalError as exc:
            return None, (name, str(exc))
    return entry, ("", "")


def _field_of(raw: dict[str, Any], exc: Exception) -> str | None:
    text = str(exc)
    return next((n for n in (*_HEX_FIELDS, "photodna", "vpdq") if text.startswith(n)), None)


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("floats are not allowed in a signed list (no canonical form)")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_floats(item)
