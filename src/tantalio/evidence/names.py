"""Paths inside an exhibit: safe to show, safe to join, unique within a source.

Member names come from the evidence, so they are hostile input: `../../etc/cron.d/x`,
`/abs/path`, `..\\win\\path`. Nothing here ever writes a member to disk, but a path kept in
the store may later be joined to a directory by someone else, so `..` components are escaped
(`%2E%2E`) and a leading slash becomes `%2F`: the stored path shows what the name was and can
never leave its container. The member itself is read, hashed and matched under that path
(issue 14: known bytes behind a traversal name must not go unmatched).
"""

from __future__ import annotations


def display(name: str | bytes) -> str:
    """A name as text that any database accepts: undecodable bytes become `\\xNN` escapes."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "backslashreplace")
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # surrogate escapes from os.fsdecode / tarfile
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def member_path(name: str) -> str:
    """An archive member name as a safe relative path. An unsafe name (path traversal, an
    absolute path, an empty name) is not refused: the member is read under the safe path,
    which shows the escape (`%2E%2E/x.jpg`, `%2Fetc/x.jpg`, `%2E`).

    Both `/` and `\\` separate components: Windows tools write backslashes into zips, and a
    `..\\` must not slip past the traversal check.
    """
    text = display(name).replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts:  # "", ".", "/": nothing to name it by, and it must not take the archive's path
        return "%2E"
    parts = ["%2E%2E" if p == ".." else p for p in parts]
    if text.startswith("/"):
        parts[0] = "%2F" + parts[0]
    return "/".join(parts)


# Explicit embeddings, overrides and isolates (Unicode bidi algorithm, UAX #9): they reorder
# the text around them, so `x\u202egpj.exe` displays as `xexe.jpg` (issue 14).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_VISIBLE = {ord(c): f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS}


def visible(text: str) -> str:
    """`text` with each bidi control shown as `[U+202E]`, for pages and reports: what an
    examiner reads is what the name holds. Stored paths keep the real characters."""
    return text.translate(_VISIBLE)


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
