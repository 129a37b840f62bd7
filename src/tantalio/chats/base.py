"""The chat-parser extension point: one module per format, registered in `registry.py`.

A parser declares its `name` and how it is recognised: base-name patterns (`FILE_NAMES`),
and for SQLite databases the tables and columns it cannot work without
(`REQUIRED_STRUCTURE`, plaso-style), probed before any query. `parse` reads one evidence
file (with its sidecars beside it) and returns records and warnings; it never touches the
case store.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from tantalio.chats import sqlite_util
from tantalio.chats.jid import normalize_jid
from tantalio.chats.record import OWNER_PREFIX, ChatRecords

if TYPE_CHECKING:
    from tantalio.chats.keys import KeyRing


@dataclass(slots=True)
class ParseContext:
    """What a parser may know beyond its file.

    `label` is the file's path inside the exhibit (used in `where` strings and in warnings);
    `owner_jid` the seized phone's own account when known (from the phone's preferences or
    the examiner); `region` the default country for phone numbers written without `+`;
    `keys` the examiner's keys for encrypted sources (chats/keys.py), never read otherwise.
    """

    label: str
    owner_jid: str | None = None
    region: str | None = None
    keys: KeyRing | None = None

    @property
    def owner_key(self) -> str:
        """The owner's account key: their JID, else `owner:phone`, which the store scopes to
        the exhibit (every source of one exhibit shares the one owner)."""
        return normalize_jid(self.owner_jid) or f"{OWNER_PREFIX}phone"


class ChatParser(ABC):
    name: ClassVar[str]
    FILE_NAMES: ClassVar[tuple[str, ...]] = ()
    SIDECARS: ClassVar[tuple[str, ...]] = ()
    REQUIRED_STRUCTURE: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def name_matches(cls, file_name: str) -> bool:
        lowered = file_name.lower()
        return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in cls.FILE_NAMES)

    @classmethod
    def wants_sidecar(cls, file_name: str) -> bool:
        lowered = file_name.lower()
        return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in cls.SIDECARS)

    def recognizes(self, path: Path) -> bool:
        """File name first (cheap), then the content check of the format."""
        return self.name_matches(path.name) and self.sniff(path)

    def sniff(self, path: Path) -> bool:
        return True

    @abstractmethod
    def parse(self, path: Path, ctx: ParseContext) -> ChatRecords:
        """All records of one file; problems become warnings, never a lost exhibit."""


class SQLiteChatParser(ChatParser):
    """A parser of one SQLite database; recognised by name and REQUIRED_STRUCTURE.

    `parse` opens a private copy (with the `-wal`), probes the schema and calls `read`;
    the registry, which probes once to choose among parsers, calls `read` directly.
    `ENCRYPTED`: the database may be encrypted (SQLCipher): the registry hands a file that
    is not plain SQLite to `parse`, which decrypts it with the examiner's key.
    """

    ENCRYPTED: ClassVar[bool] = False

    def sniff(self, path: Path) -> bool:
        return sqlite_util.is_sqlite(path)

    def structure_gaps(self, have: dict[str, set[str]]) -> list[str]:
        return sqlite_util.missing(self.REQUIRED_STRUCTURE, have)

    def parse(self, path: Path, ctx: ParseContext) -> ChatRecords:
        out = ChatRecords()
        if not sqlite_util.is_sqlite(path):
            out.warn(ctx.label, "not a SQLite database (encrypted backup, or corrupt)")
            return out
        try:
            with sqlite_util.open_copy(path) as conn:
                have = sqlite_util.schema(conn)
                gaps = self.structure_gaps(have)
                if gaps:
                    out.warn(ctx.label, f"not a {self.name} database: missing {', '.join(gaps)}")
                    return out
                return self.read(conn, have, path, ctx)
        except sqlite3.DatabaseError as exc:
            out.warn(ctx.label, f"unreadable database: {exc}")
        return out

    @abstractmethod
    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        """All records of a database whose schema has REQUIRED_STRUCTURE."""

    def new_records(self, ctx: ParseContext) -> ChatRecords:
        """The empty records of one database `read`, naming it and this parser as the source."""
        return ChatRecords(sources=[f"{ctx.label} ({self.name})"])

    @staticmethod
    def read_partly(out: ChatRecords, ctx: ParseContext, run: Callable[[], None]) -> ChatRecords:
        """Run the queries; a database that fails part way keeps what was read, plus a warning."""
        try:
            run()
        except sqlite3.DatabaseError as exc:
            out.warn(ctx.label, f"database partly unreadable: {exc}")
        return out
