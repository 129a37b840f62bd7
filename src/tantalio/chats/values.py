"""Value conversions shared by the database parsers: hashes, timestamps, action codes."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def sha256_hex(value: object) -> str | None:
    """Lower-case hex of a SHA-256 stored base64 (WhatsApp's `file_hash`, `media_hash`,
    iOS `ZVCARDNAME`), raw (32 bytes) or already hex; None for anything else."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) == 32:
            return raw.hex()
        try:
            value = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _HEX64.match(text):
        return text.lower()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=False, altchars=None)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
    return raw.hex() if len(raw) == 32 else None


def from_millis(value: object) -> datetime | None:
    """Android stores milliseconds since 1970 (UTC); 0/NULL mean unknown."""
    if not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value > 1e11 else value  # some columns hold seconds
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_cocoa(value: object) -> datetime | None:
    """iOS stores seconds since 2001-01-01 (UTC), as a float."""
    if not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return COCOA_EPOCH + timedelta(seconds=float(value))
    except OverflowError:
        return None


# WhatsApp Android system-message actions: `message_system.action_type` (current schema) and
# `messages.media_size` where `status = 6` (legacy). Codes not listed become "other".
ANDROID_ACTIONS = {
    1: "subject_changed",
    4: "added",
    5: "left",
    6: "icon_changed",
    7: "removed",
    10: "number_changed",
    11: "created",
    12: "added",
    13: "left",
    14: "removed",
    15: "admin_granted",
    20: "joined_invite",
}

# Android `message_type` / legacy `media_wa_type` → media kind.
ANDROID_MEDIA_TYPES = {
    1: "image",
    2: "audio",
    3: "video",
    9: "document",
    13: "video",  # GIF, stored as MP4
    20: "sticker",
    42: "image",  # view once
    43: "video",
}

ANDROID_SYSTEM_TYPE = 7  # message.message_type of system events


def kind_from_mime(mime: str | None) -> str | None:
    if not mime:
        return None
    major = mime.split("/", 1)[0].lower()
    if major in ("image", "video", "audio"):
        return "sticker" if mime.lower() == "image/webp" else major
    return "document"
