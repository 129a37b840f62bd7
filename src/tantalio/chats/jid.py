"""WhatsApp identities: JIDs, phone numbers and the merge keys built from them.

A JID is `user@server`: `447700900123@s.whatsapp.net` for a phone account (older data:
`@c.us`), `120363...@g.us` for a group, `...@lid` for the privacy identity newer versions
show instead of a number, `status@broadcast`, `...@broadcast` for broadcast lists. Multi-device
JIDs carry a device after a colon (`4477...:12@s.whatsapp.net`), which is the same account.
"""

from __future__ import annotations

import re

import phonenumbers

from tantalio.chats.record import LOCAL_PREFIX, Account

USER_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
LID_SERVER = "lid"

_JID_RE = re.compile(r"^([^@:\s]+?)(?:[.:]\d+)*(?::\d+)?@([a-z0-9.]+)$", re.IGNORECASE)


def normalize_jid(raw: str | None) -> str | None:
    """`user@server` in lower case without device/agent parts; None for empty/invalid."""
    if not raw:
        return None
    raw = raw.strip().lower()
    m = _JID_RE.match(raw)
    if not m:
        return None
    user, server = m.group(1), m.group(2)
    if server == "c.us":
        server = USER_SERVER
    return f"{user}@{server}"


def jid_server(jid: str) -> str:
    return jid.rsplit("@", 1)[-1]


def is_group_jid(jid: str | None) -> bool:
    return bool(jid) and jid_server(jid or "") == GROUP_SERVER


def is_broadcast_jid(jid: str | None) -> bool:
    return bool(jid) and jid_server(jid or "") == "broadcast"


def phone_from_jid(jid: str | None) -> str | None:
    """E.164 number of a phone JID (`+447700900123`), None for other kinds."""
    if not jid or jid_server(jid) != USER_SERVER:
        return None
    user = jid.split("@", 1)[0]
    return f"+{user}" if user.isdigit() else None


def normalize_phone(text: str, region: str | None = None) -> str | None:
    """E.164 form of a phone number as people write it; None when it is not a possible number.

    Without a region only international forms (`+44 ...`) are understood: a chat export
    names senders in international form, and guessing a country would invent identities.
    """
    cleaned = text.strip().strip("\u200e\u200f\u202a\u202c\u2066\u2069")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def jid_from_phone(e164: str) -> str:
    return f"{e164.lstrip('+')}@{USER_SERVER}"


def account_for_jid(
    jid: str, names: list[str] | None = None, where: str | None = None, lid: str | None = None
) -> Account:
    """The account record for a normalized JID (phone or `@lid`)."""
    names = [n for n in (names or []) if n]
    if jid_server(jid) == LID_SERVER:
        return Account(key=jid, lid=jid, names=names, where=where)
    return Account(key=jid, jid=jid, phone=phone_from_jid(jid), lid=lid, names=names, where=where)


def account_for_label(label: str, where: str | None = None) -> Account:
    """The account a text export names: a phone number when it is one, else a local name."""
    e164 = normalize_phone(label) if len(re.findall(r"\d", label)) >= 7 else None
    if e164 is not None and re.fullmatch(
        r"[\s+\d()\-.\u200e\u200f\u202a\u202c\u2066\u2069~]+", label
    ):
        jid = jid_from_phone(e164)
        return Account(key=jid, jid=jid, phone=e164, where=where)
    name = label.strip().lstrip("~\u202f\u00a0 ").strip()  # "~ Name": an unsaved contact
    return Account(key=f"{LOCAL_PREFIX}{name}", names=[name], where=where)
