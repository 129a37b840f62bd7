"""Paths inside an exhibit: safe to show, safe to join, unique within a source.

Member names come from the evidence, so they are hostile input: `../../etc/cron.d/x`,
`/abs/path`, `..\\win\\path`. Nothing here ever writes a member to disk, but a path kept in
the store may later be joined to a directory by someone else, so `..` components are escaped
(`%2E%2E`) and leading slashes dropped, and the file is reported unreadable with the raw name.
"""

from __future__ import annotations

import re

_DRIVE = re.compile(r"^[A-Za-z]:")


def display(name: str | bytes) -> str:
    """A name as text that any database accepts: undecodable bytes become `\\xNN` escapes."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "backslashreplace")
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # surrogate escapes from os.fsdecode / tarfile
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def member_path(name: str) -> tuple[str, str | None]:
    """Split an archive member name into a safe relative path and, if unsafe, the reason.

    Both `/` and `\\` separate components: Windows tools write backslashes into zips, and a
    `..\\` must not slip past the traversal check.
    """
    text = display(name).replace("\\", "/")
    problem = None
    if text.startswith("/") or _DRIVE.match(text):
        problem = "absolute path"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        problem = "path traversal"
    if not parts:  # "", ".", "/": nothing to name it by, and it must not take the archive's path
        parts, problem = ["%2E"], "empty name"
    safe = "/".join("%2E%2E" if p == ".." else p for p in parts)
    if problem:
        return safe, f"unsafe member name {display(name)!r} ({problem}): not extracted"
    return safe, None


def join(prefix: str, rel: str) -> str:
    if not prefix:
        return rel
    if not rel:
        return prefix
    return f"{prefix}/{rel}"


class UniqueNames:
    """Give every path in one container a distinct name (zip allows duplicate names; a disk
    holds a deleted `a.jpg` next to a live one): the second becomes `a.jpg#2`, in walk order,
    so resumable ingest can key files by path."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def add(self, path: str) -> str:
        count = self._seen.get(path, 0) + 1
        self._seen[path] = count
        if count == 1:
            return path
        candidate = f"{path}#{count}"
        while candidate in self._seen:
            count += 1
            candidate = f"{path}#{count}"
        self._seen[path] = count
        self._seen[candidate] = 1
        return candidate
