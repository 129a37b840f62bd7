"""Value checks and conversions every reader shares: hex hashes, flags, dates.

Each function raises `ValueError` with a message fit for a `ParseWarning`; readers decide
whether the record is skipped (hashes) or the value ignored (flags, dates).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tantalio.hashsets.record import HashEntry

# Hex digits per algorithm (PDQ: 256 bits).
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = re.compile(r"[0-9a-f]+")
_TRUE = frozenset({"true", "yes", "y", "1", "t", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "f", ""})
# .NET JSON dates: /Date(1500000000000)/ or /Date(1500000000000+0100)/ (ms since epoch, UTC;
# the offset says where the writer was and does not change the instant).
_NET_DATE = re.compile(r"/?Date\((-?\d+)([+-]\d{4})?\)/?")


def normalize_hex(algorithm: str, value: object) -> str:
    """Lower-case hex of the right length for `algorithm`, or ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError(f"{algorithm} must be a hex string, got {type(value).__name__}")
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    want = HEX_LENGTHS[algorithm]
    if len(text) != want:
        raise ValueError(f"{algorithm} must be {want} hex digits, got {len(text)}")
    if not _HEX.fullmatch(text):
        raise ValueError(f"{algorithm} has characters that are not hex digits")
    return text


def normalize_photodna(value: object) -> str:
    """PhotoDNA is stored as the source wrote it (base64, hex or decimal list), trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("photodna must be a non-empty string")
    return value.strip()


def normalize_vpdq_frame(value: object) -> str:
    """One vPDQ frame in HMA's compact form `pdq_hex,quality,timestamp`."""
    if not isinstance(value, str):
        raise ValueError("vpdq frame must be a string 'pdq,quality,timestamp'")
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3:
        raise ValueError("vpdq frame must be 'pdq,quality,timestamp'")
    pdq = normalize_hex("pdq", parts[0])
    try:
        quality = int(parts[1])
        timestamp = float(parts[2])
    except ValueError:
        raise ValueError("vpdq frame quality/timestamp are not numbers") from None
    if not 0 <= quality <= 100:
        raise ValueError(f"vpdq frame quality {quality} is outside 0..100")
    return f"{pdq},{quality},{timestamp:.3f}"


def parse_flag(value: object) -> bool | None:
    """A yes/no flag as sources write it: JSON bool, 0/1, true/false, yes/no, Y/N; empty = None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"not a yes/no value: {value!r}")


def parse_date(value: object) -> datetime | None:
    """A timestamp as UTC: .NET `/Date(ms)/`, ISO 8601 (no zone = UTC), or epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    match = _NET_DATE.fullmatch(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_date(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as VICS 2.0 writes dates."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def split_tags(value: object) -> list[str]:
    """Tags as a list: a JSON list (of strings or {"Name": ...}), or a `;`/`,`/`|` string."""
    if value is None:
        return []
    if isinstance(value, list):
        tags: list[str] = []
        for item in value:
            if isinstance(item, dict):
                item = item.get("Name") or item.get("name") or item.get("Value")
            if isinstance(item, str | int) and str(item).strip():
                tags.append(str(item).strip())
        return tags
    if isinstance(value, str):
        for sep in (";", "|", ","):
            if sep in value:
                return [t.strip() for t in value.split(sep) if t.strip()]
        return [value.strip()] if value.strip() else []
    raise ValueError(f"tags must be a list or a string, got {type(value).__name__}")


def has_hash(entry: HashEntry) -> bool:
    """An entry is only worth keeping if some hash identifies it."""
    return bool(entry.hashes() or entry.vpdq)
