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


def parse_records(items: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A push's records as store columns (`RecordIn.columns()`), in order, and the refused
    ones as {"index", "error"}: the same answer as `parse_record` on each, at a fraction of
    its cost. Each hash column is checked for the whole batch at once (one join, one length
    set, one regular-expression scan of the joined text); a record with anything unusual (a
    hash not already lower-case hex of the right length, vPDQ, shared fields, a date other
    than YYYY-MM-DD, a wrong type) goes through `parse_record`, which names the problem."""
    slow: set[int] = set()
    for name, width in HEX_LENGTHS.items():
        slow.update(_odd_hex(items, name, width))
    out: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    dates = _DATES
    for i, r in enumerate(items):
        if i not in slow and type(r) is dict:
            cols = _fast_columns(r, dates)
            if cols is not None:
                out.append(cols)
                continue
        try:
            out.append(parse_record(r).columns())
        except BadInput as exc:
            refused.append({"index": i, "error": str(exc)})
    return out, refused


_DATES: dict[str, str] = {}  # YYYY-MM-DD texts already checked (a push repeats few dates)


def _odd_hex(items: list[Any], name: str, width: int) -> list[int]:
    """Positions whose `name` is present but not already `width` lower-case hex digits."""
    values = [r.get(name) if type(r) is dict else None for r in items]
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return []
    try:
        joined = "".join(present)
        if set(map(len, present)) == {width} and _HEX.fullmatch(joined):
            return []
    except TypeError:  # a value that is not a string
        pass
    return [
        i
        for i, v in enumerate(values)
        if v is not None
        and v != ""
        and not (isinstance(v, str) and len(v) == width and _HEX.fullmatch(v))
    ]


def _fast_columns(r: dict[str, Any], dates: dict[str, str]) -> dict[str, Any] | None:
    """The columns of a plain record whose hashes are known good, or None when anything
    needs `parse_record` (its error message, or a normalisation done there)."""
    if r.get("vpdq") is not None or r.get("shared") is not None:
        return None
    sha256, sha1, md5, pdq = (r.get(k) or None for k in IDENTITY_ORDER)
    first = sha256 or sha1 or md5 or pdq
    if first is None:
        return None
    status = r.get("status") or "unidentified"
    if status not in STATUSES:
        return None
    quality, category = r.get("pdq_quality"), r.get("category")
    if quality is not None and (type(quality) is not int or not 0 <= quality <= 100):
        return None
    if category is not None and (type(category) is not int or not 0 <= category <= 4):
        return None
    victim, offender = r.get("victim_identified"), r.get("offender_identified")
    if victim is None:
        victim = False
    if offender is None:
        offender = False
    if type(victim) is not bool or type(offender) is not bool:
        return None
    texts: list[str | None] = []
    for name in ("series", "case_ref"):
        value = r.get(name)
        if value is not None:
            if type(value) is not str or len(value) > MAX_TEXT:
                return None
            value = value.strip() or None
        texts.append(value)
    seen: list[str | None] = []
    for name in ("first_seen", "last_seen"):
        value = r.get(name)
        if value is None or value == "":
            seen.append(None)
            continue
        iso = dates.get(value) if type(value) is str else None
        if iso is None:
            if type(value) is not str or len(value) != 10:
                return None
            try:
                iso = date.fromisoformat(value).isoformat()
            except ValueError:
                return None
            if len(dates) < 100_000:
                dates[value] = iso
        seen.append(iso)
    kind = "sha256" if sha256 else "sha1" if sha1 else "md5" if md5 else "pdq"
    return {
        "identity": f"{kind}:{first}",
        "sha256": sha256,
        "sha1": sha1,
        "md5": md5,
        "pdq": pdq,
        "pdq_quality": quality,
        "vpdq": None,
        "category": category,
        "series": texts[0],
        "status": status,
        "victim_identified": victim,
        "offender_identified": offender,
        "case_ref": texts[1],
        "first_seen": seen[0],
        "last_seen": seen[1],
        "shared": None,
    }


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
