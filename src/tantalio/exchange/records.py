"""Validation of what agencies send: records to push, identities to retract, queries.

Pure functions, no I/O: each takes one JSON object as the client sent it and returns a typed
value or raises `BadInput` with a sentence that never echoes a hash value (error bodies and
logs must not carry hashes, docs/exchange-api.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

HEX_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32, "pdq": 64}
IDENTITY_ORDER = ("sha256", "sha1", "md5", "pdq")
STATUSES = ("unidentified", "in-progress", "identified")
MAX_VPDQ_FRAMES = 1024
MAX_TEXT = 256
MAX_SHARED_FIELDS = 16
_HEX = re.compile(r"[0-9a-f]+")


class BadInput(ValueError):
    """One record or query that cannot be used; the message names the field, not the value."""


@dataclass(slots=True)
class RecordIn:
    identity: str
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[str] | None = None
    category: int | None = None
    series: str | None = None
    status: str = "unidentified"
    victim_identified: bool = False
    offender_identified: bool = False
    case_ref: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    shared: dict[str, str] | None = None

    def columns(self) -> dict[str, Any]:
        """The record as store columns (without agency and times)."""
        return {
            "identity": self.identity,
            "sha256": self.sha256,
            "sha1": self.sha1,
            "md5": self.md5,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
            "vpdq": self.vpdq,
            "category": self.category,
            "series": self.series,
            "status": self.status,
            "victim_identified": self.victim_identified,
            "offender_identified": self.offender_identified,
            "case_ref": self.case_ref,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "shared": self.shared,
        }


@dataclass(slots=True)
class QueryIn:
    ref: Any
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    # The other orientations of the image's PDQ (Fingerprint.pdq_orientations); a PDQ hash
    # cannot be turned into its rotations without the pixels, so the client sends them.
    pdq_orientations: list[str] = field(default_factory=list)
    vpdq: list[str] | None = None


def _hex(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a hex string")
    value = value.strip().lower()
    if len(value) != HEX_LENGTHS[name] or not _HEX.fullmatch(value):
        raise BadInput(f"{name} must be {HEX_LENGTHS[name]} hex digits")
    return value


def _pdq_list(raw: dict[str, Any], name: str, limit: int) -> list[str] | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{name} must be a list of 64-hex-digit PDQ hashes")
    if len(value) > limit:
        raise BadInput(f"{name} holds more than {limit} hashes")
    out = [v.strip().lower() for v in value]
    if any(len(v) != 64 or not _HEX.fullmatch(v) for v in out):
        raise BadInput(f"{name} must be a list of 64-hex-digit PDQ hashes")
    return out


def _int(raw: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise BadInput(f"{name} must be an integer from {lo} to {hi} or null")
    return value


def _bool(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false")
    return value


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadInput(f"{name} must be a string of at most {MAX_TEXT} characters")
    return value.strip() or None


def _date(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 32:
        raise BadInput(f"{name} must be an ISO date")
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise BadInput(f"{name} must be an ISO date (YYYY-MM-DD)") from None


def vpdq_identity(frames: list[str]) -> str:
    """A vPDQ-only record's identity: SHA-256 of its sorted frame list (docs/exchange-api.md)."""
    return hashlib.sha256("\n".join(sorted(frames)).encode()).hexdigest()


def identity_of(raw: dict[str, Any]) -> str:
    """The identity named by a record or a retraction: the first present of sha256, sha1,
    md5, pdq, else the vPDQ frame list's digest, as "<kind>:<hex>"."""
    for name in IDENTITY_ORDER:
        if value := _hex(raw, name):
            return f"{name}:{value}"
    frames = _pdq_list(raw, "vpdq", MAX_VPDQ_FRAMES)
    if frames:
        return f"vpdq:{vpdq_identity(frames)}"
    raise BadInput("a record needs at least one of sha256, sha1, md5, pdq, vpdq")


def parse_record(raw: object) -> RecordIn:
    if not isinstance(raw, dict):
        raise BadInput("a record must be a JSON object")
    status = raw.get("status", "unidentified") or "unidentified"
    if status not in STATUSES:
        raise BadInput(f"status must be one of {', '.join(STATUSES)}")
    shared = raw.get("shared")
    if shared is not None:
        if (
            not isinstance(shared, dict)
            or len(shared) > MAX_SHARED_FIELDS
            or not all(
                isinstance(k, str)
                and isinstance(v, str | int | float | bool)
                and len(str(v)) < 1024
                for k, v in shared.items()
            )
        ):
            raise BadInput(f"shared must be an object of at most {MAX_SHARED_FIELDS} simple fields")
        shared = {str(k)[:64]: v for k, v in shared.items()} or None
    rec = RecordIn(
        identity=identity_of(raw),
        sha256=_hex(raw, "sha256"),
        sha1=_hex(raw, "sha1"),
        md5=_hex(raw, "md5"),
        pdq=_hex(raw, "pdq"),
        pdq_quality=_int(raw, "pdq_quality", 0, 100),
        vpdq=_pdq_list(raw, "vpdq", MAX_VPDQ_FRAMES) or None,
        category=_int(raw, "category", 0, 4),
        series=_text(raw, "series"),
        status=status,
        victim_identified=_bool(raw, "victim_identified"),
        offender_identified=_bool(raw, "offender_identified"),
        case_ref=_text(raw, "case_ref"),
        first_seen=_date(raw, "first_seen"),
        last_seen=_date(raw, "last_seen"),
        shared=shared,
    )
    return rec


def parse_retraction(raw: object) -> str:
    if not isinstance(raw, dict):
        raise BadInput("a retraction must be a JSON object naming a hash")
    return identity_of(raw)


def parse_query(raw: object) -> QueryIn:
    if not isinstance(raw, dict):
        raise BadInput("a query must be a JSON object")
    ref = raw.get("id")
    if ref is not None and not isinstance(ref, str | int):
        raise BadInput("id must be a string or an integer")
    q = QueryIn(
        ref=ref,
        sha256=_hex(raw, "sha256"),
        sha1=_hex(raw, "sha1"),
        md5=_hex(raw, "md5"),
        pdq=_hex(raw, "pdq"),
        pdq_quality=_int(raw, "pdq_quality", 0, 100),
        pdq_orientations=_pdq_list(raw, "pdq_orientations", 8) or [],
        vpdq=_pdq_list(raw, "vpdq", MAX_VPDQ_FRAMES) or None,
    )
    if not (q.sha256 or q.sha1 or q.md5 or q.pdq or q.pdq_orientations or q.vpdq):
        raise BadInput("a query needs at least one of sha256, sha1, md5, pdq, vpdq")
    return q
