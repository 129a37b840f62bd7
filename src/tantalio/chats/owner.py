"""The seized phone's own WhatsApp account, from the app's preference files.

Chat databases record the other parties' JIDs but not the phone's own, which is needed to
recognise the owner when another seized phone shows them as a sender. Android keeps it in
`shared_prefs/com.whatsapp_preferences*.xml` (`registration_jid`, or country code `cc` and
number `ph`); iOS in a WhatsApp property list under a key naming a JID. The examiner can
also give it (`tantalio chats import --owner`).
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any

from lxml import etree

from tantalio.chats.jid import normalize_jid

PREFS_NAMES = ("com.whatsapp_preferences*.xml",)
PLIST_NAMES = ("*whatsapp*.plist",)
_PHONE_JID = re.compile(r"^\d{6,15}@s\.whatsapp\.net$")


def from_android_prefs(path: Path) -> tuple[str | None, str | None]:
    """(JID, the name the owner chose: `push_name`)."""
    try:
        root = etree.parse(str(path), parser=etree.XMLParser(resolve_entities=False)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None, None
    values = {el.get("name"): (el.text or "").strip() for el in root.iter("string")}
    name = values.get("push_name") or None
    reg = values.get("registration_jid")
    if reg:
        return normalize_jid(reg if "@" in reg else f"{reg}@s.whatsapp.net"), name
    cc, ph = values.get("cc"), values.get("ph")
    if cc and ph and (cc + ph).isdigit():
        return f"{cc}{ph}@s.whatsapp.net", name
    return None, name


def _jid_values(node: Any, key: str = "") -> list[str]:
    if isinstance(node, dict):
        return [v for k, sub in node.items() for v in _jid_values(sub, str(k))]
    if isinstance(node, list):
        return [v for sub in node for v in _jid_values(sub, key)]
    if isinstance(node, str) and "jid" in key.lower() and _PHONE_JID.match(node.lower()):
        return [node.lower()]
    return []


def from_ios_plist(path: Path) -> tuple[str | None, str | None]:
    """(JID, name): a JID under a key naming one; a name under a key naming a push name."""
    try:
        with path.open("rb") as fh:
            data = plistlib.load(fh)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None, None
    found = _jid_values(data)
    name = None
    if isinstance(data, dict):
        name = next(
            (v for k, v in data.items() if "pushname" in str(k).lower() and isinstance(v, str)),
            None,
        )
    return (normalize_jid(found[0]) if found else None), name
