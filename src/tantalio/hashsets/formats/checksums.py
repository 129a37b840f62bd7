"""Checksum lists as coreutils writes them (`md5sum`, `sha1sum`, `sha256sum`), one format
name per algorithm.

Accepted lines: `<hex>  <name>` (text mode), `<hex> *<name>` (binary mode), `\\<hex>  <name>`
(coreutils escapes names holding a newline or backslash), BSD tags `MD5 (<name>) = <hex>`,
and a bare `<hex>`. Blank lines and `#` comments are skipped. The file name, when there is
one, is kept in `comments`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from tantalio.hashsets.base import HashSetFormat
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.textlines import Lines
from tantalio.hashsets.validate import HEX_LENGTHS, normalize_hex

_BSD = re.compile(r"(?P<tag>[A-Za-z0-9-]+) \((?P<name>.*)\) = (?P<hash>\S+)")
_BSD_TAGS = {"md5": "md5", "sha1": "sha1", "sha-1": "sha1", "sha256": "sha256", "sha-256": "sha256"}


class _ChecksumList(HashSetFormat):
    algorithm: ClassVar[str] = ""

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        want = HEX_LENGTHS[cls.algorithm]
        for raw in head.lstrip(b"\xef\xbb\xbf").splitlines()[:5]:
            line = raw.strip().lstrip(b"\\")
            if not line or line.startswith(b"#"):
                continue
            bsd = _BSD.fullmatch(line.decode("utf-8", "replace"))
            if bsd:
                return _BSD_TAGS.get(bsd.group("tag").lower()) == cls.algorithm
            token = re.split(rb"[\s,]", line, maxsplit=1)[0]
            return len(token) == want and re.fullmatch(rb"[0-9a-fA-F]+", token) is not None
        return False

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        label = self.algorithm.upper()
        lines = Lines(stream)
        for text in lines:
            where = f"{source}:{lines.number}"
            line = text.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            value, name, problem = _split(line, self.algorithm)
            if problem:
                yield ParseWarning(where, label, f"{problem}; line skipped")
                continue
            try:
                digest = normalize_hex(self.algorithm, value)
            except ValueError as exc:
                yield ParseWarning(where, label, f"{exc}; line skipped")
                continue
            if lines.number in lines.bad:
                yield ParseWarning(where, "name", "not valid UTF-8; bytes replaced, line kept")
            entry = HashEntry(comments=name or None)
            setattr(entry, self.algorithm, digest)
            yield entry


def _split(line: str, algorithm: str) -> tuple[str, str, str | None]:
    """(hash text, file name, problem) of one checksum line."""
    escaped = line.startswith("\\")
    if escaped:
        line = line[1:]
    bsd = _BSD.fullmatch(line.strip())
    if bsd:
        tag = _BSD_TAGS.get(bsd.group("tag").lower())
        if tag != algorithm:
            return "", "", f"{bsd.group('tag')} line in a {algorithm} list"
        name = bsd.group("name")
        return bsd.group("hash"), _unescape(name) if escaped else name, None
    match = re.match(r"\s*([^\s,]+)(?:[ \t,]\*?|$)(.*)", line)
    if match is None:  # pragma: no cover - the pattern matches any non-blank line
        return "", "", "no hash on this line"
    value, name = match.group(1), match.group(2).strip(" \t")
    if name.startswith("*"):
        name = name[1:]
    return value, _unescape(name) if escaped else name, None


def _unescape(name: str) -> str:
    """Undo coreutils' escaping of `\\n` and `\\\\` in names."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)


class Md5sumFormat(_ChecksumList):
    name = "md5sum"
    algorithm = "md5"
    description = "md5sum output or one MD5 per line"


class Sha1sumFormat(_ChecksumList):
    name = "sha1sum"
    algorithm = "sha1"
    description = "sha1sum output or one SHA-1 per line"


class Sha256sumFormat(_ChecksumList):
    name = "sha256sum"
    algorithm = "sha256"
    description = "sha256sum output or one SHA-256 per line"
