"""Android `wa.db` (contacts): the names the phone shows for each JID.

A sidecar of `msgstore.db`: read when it lies beside it. Only `wa_contacts.jid` is required;
name columns are used when present (`display_name` is the address-book name, `wa_name` the
name the account chose).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tantalio.chats import sqlite_util
from tantalio.chats.jid import normalize_jid
from tantalio.chats.record import ChatRecords

REQUIRED_STRUCTURE = {"wa_contacts": ("jid",)}
NAME_COLUMNS = ("display_name", "wa_name", "given_name", "nickname")


def read_contacts(path: Path, label: str, out: ChatRecords) -> dict[str, list[str]]:
    """JID → names; problems become warnings naming what is missing."""
    names: dict[str, list[str]] = {}
    if not sqlite_util.is_sqlite(path):
        out.warn(label, "not a SQLite database; contact names not read")
        return names
    try:
        with sqlite_util.open_copy(path) as conn:
            have = sqlite_util.schema(conn)
            gaps = sqlite_util.missing(REQUIRED_STRUCTURE, have)
            if gaps:
                out.warn(label, f"not a wa.db contacts database: missing {', '.join(gaps)}")
                return names
            cols = [c for c in NAME_COLUMNS if c in have["wa_contacts"]]
            select = ", ".join(["jid", *cols])
            for row in conn.execute(f"SELECT {select} FROM wa_contacts"):
                jid = normalize_jid(row["jid"])
                if jid is None:
                    continue
                found = [str(row[c]) for c in cols if row[c]]
                bucket = names.setdefault(jid, [])
                bucket.extend(n for n in found if n not in bucket)
    except sqlite3.DatabaseError as exc:
        out.warn(label, f"unreadable database: {exc}")
    out.sources.append(f"{label} (wa.db contacts)")
    return names
