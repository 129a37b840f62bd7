"""Browser history (issue 15): Tor Browser / Firefox `places.sqlite` and Chromium `History`,
as the visited URLs and `.onion` sites of the phone's owner, with their times.

The case's chain is a network edge site (often an onion service) listing a group's invite
link, a visit to it, and the group: a visit is an artifact of kind `visit` whose `site` is
the visited host, the same `site` a page saved from that host gives the invite links on it
(artifacts.py), so the network ties the owner to the site and the site to the group.

Read: `moz_places` + `moz_historyvisits` (desktop Firefox counts microseconds since 1970;
Firefox/Tor Browser for Android, built on application-services, milliseconds: the unit is
told by magnitude); `urls` + `visits` (Chromium: microseconds since 1601-01-01). One
artifact per URL with its first visit time; the number of visits and the last one are in
its `where`. Not read: bookmarks, downloads, form history, cookies, session stores.
"""

from __future__ import annotations

import sqlite3
from abc import abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tantalio.chats.artifacts import ONION, extract, normalize_url, site_of
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.jid import account_for_jid
from tantalio.chats.record import INVITE_KINDS, Account, Artifact, ChatRecords

WEBKIT_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
SKIPPED_SCHEMES = ("place:", "about:", "moz-extension:", "chrome:", "chrome-extension:", "data:")


def from_unix_any(value: object) -> datetime | None:
    """A Unix time in seconds, milliseconds or microseconds (told by magnitude)."""
    if not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1e6 if value > 1e14 else value / 1e3 if value > 1e11 else float(value)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_webkit(value: object) -> datetime | None:
    if not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return WEBKIT_EPOCH + timedelta(microseconds=value)
    except OverflowError:
        return None


class _HistoryParser(SQLiteChatParser):
    QUERY = ""
    TABLE = ""

    @abstractmethod
    def time(self, value: object) -> datetime | None:
        """A visit time column's value as UTC."""

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        owner = (
            account_for_jid(ctx.owner_key)
            if ctx.owner_jid
            else Account(key=ctx.owner_key, where=ctx.label)
        )
        owner.is_owner = True

        def run() -> None:
            for row in conn.execute(self.QUERY):
                url = str(row["url"] or "")
                if not url or url.lower().startswith(SKIPPED_SCHEMES):
                    continue
                first, last = self.time(row["first"]), self.time(row["last"])
                visits = f"{row['n']} visit{'s' if row['n'] != 1 else ''}"
                when = f", last {last.isoformat()}" if last and last != first else ""
                where = f"{ctx.label}:{self.TABLE} {row['id']} ({visits}{when})"
                host = site_of(url)
                out.artifacts.append(
                    Artifact(
                        kind="visit",
                        value=normalize_url(url)[:512],
                        raw=url,
                        where=where,
                        sender=owner.key,
                        site=host,
                        seen_at=first,
                    )
                )
                for found in extract(url, where, sender=owner.key):  # a visited invite link
                    if found.kind in INVITE_KINDS:
                        found.seen_at = first
                        out.artifacts.append(found)
                onion = ONION.search(host or "")
                if onion:
                    out.artifacts.append(
                        Artifact(
                            kind="onion",
                            value=onion["host"].lower(),
                            raw=url,
                            where=where,
                            sender=owner.key,
                            site=host,
                            seen_at=first,
                        )
                    )

        self.read_partly(out, ctx, run)
        if out.artifacts:
            out.add_account(owner)
        return out


class FirefoxPlacesParser(_HistoryParser):
    """Tor Browser and Firefox (desktop and Android) `places.sqlite`."""

    name = "firefox_places"
    FILE_NAMES = ("places.sqlite",)
    SIDECARS = ("places.sqlite-wal",)
    REQUIRED_STRUCTURE = {
        "moz_places": ("id", "url"),
        "moz_historyvisits": ("place_id", "visit_date"),
    }
    TABLE = "moz_places"
    QUERY = (
        "SELECT p.id AS id, p.url AS url, MIN(v.visit_date) AS first, MAX(v.visit_date) AS last,"
        " COUNT(*) AS n FROM moz_places p JOIN moz_historyvisits v ON v.place_id = p.id"
        " GROUP BY p.id ORDER BY first, p.id"
    )

    def time(self, value: object) -> datetime | None:
        return from_unix_any(value)


class ChromiumHistoryParser(_HistoryParser):
    """Chrome, Chromium, Samsung Internet, Brave… `History`."""

    name = "chromium_history"
    FILE_NAMES = ("History",)
    SIDECARS = ("History-wal", "History-journal")
    REQUIRED_STRUCTURE = {"urls": ("id", "url"), "visits": ("url", "visit_time")}
    TABLE = "urls"
    QUERY = (
        "SELECT u.id AS id, u.url AS url, MIN(v.visit_time) AS first, MAX(v.visit_time) AS last,"
        " COUNT(*) AS n FROM urls u JOIN visits v ON v.url = u.id"
        " GROUP BY u.id ORDER BY first, u.id"
    )

    def time(self, value: object) -> datetime | None:
        return from_webkit(value)
