"""Encrypted WhatsApp backups, `msgstore*.db.crypt14` and `.crypt15`, opened with the
examiner's key (issue 15), then read by the msgstore parsers.

The container, as publicly described (and implemented here from that description, with
`cryptography` and `zlib`, not taken from a tool):

    [1 byte: prefix length n] [0x01 when a feature table follows: optional]
    [n bytes: protobuf BackupPrefix]  field 1 key_type, field 2 C14_cipher {5: IV},
                                      field 3 C15_IV {1: IV}
    [AES-256-GCM ciphertext of zlib(SQLite database)] [16-byte GCM tag]
    [16-byte MD5 of everything before it: msgstore backups carry it, others may not]

crypt14 encrypts with the 32-byte key at the end of the `key` file; crypt15 with
HKDF-SHA256(root key, salt = none, info = "backup encryption"), the root key being the
`encrypted_backup.key` payload or the 64 hex digits WhatsApp shows the user.

Why not `wa-crypt-tools`: it is GPL-3.0-or-later (tantalio is Apache-2.0) and pins
`protobuf<5.28` and `javaobj`; the container is small enough to read directly.

The plaintext is written to a private temporary directory (mode 0700, outside the
evidence), used only once the GCM tag verifies, and removed after parsing. A wrong key is
told from a damaged file: with a wrong key the first decrypted bytes are not a zlib header.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tantalio.chats.base import ChatParser, ParseContext
from tantalio.chats.keys import ChatKey
from tantalio.chats.record import ChatRecords
from tantalio.chats.sqlite_util import SQLITE_MAGIC

CHUNK = 1 << 20
TRAILER = 32  # GCM tag + MD5 (or the last ciphertext block + tag when there is no MD5)


class BackupError(Exception):
    """The backup cannot be opened; the message says why (never the key)."""


class WrongKey(BackupError):
    pass


@dataclass(frozen=True, slots=True)
class BackupHeader:
    version: str  # "crypt14" or "crypt15"
    iv: bytes
    body_start: int


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise BackupError("malformed backup header (protobuf varint)")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def protobuf_fields(data: bytes) -> dict[int, bytes | int]:
    """Top-level fields of a protobuf message (varints and length-delimited only: all the
    backup prefix uses)."""
    out: dict[int, bytes | int] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            out[number], pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise BackupError("malformed backup header (field past its end)")
            out[number], pos = data[pos : pos + size], pos + size
        else:
            raise BackupError(f"malformed backup header (wire type {wire})")
    return out


def read_header(head: bytes) -> BackupHeader:
    if len(head) < 3:
        raise BackupError("too short for a WhatsApp backup")
    size = head[0]
    start = 2 if head[1] == 0x01 else 1
    prefix = head[start : start + size]
    if size == 0 or len(prefix) < size:
        raise BackupError("truncated backup header")
    fields = protobuf_fields(prefix)
    c15, c14 = fields.get(3), fields.get(2)
    if isinstance(c15, bytes):
        iv, version = protobuf_fields(c15).get(1), "crypt15"
    elif isinstance(c14, bytes):
        iv, version = protobuf_fields(c14).get(5), "crypt14"
    else:
        raise BackupError("no crypt14/crypt15 cipher information in the backup header")
    if not isinstance(iv, bytes) or len(iv) < 12:
        raise BackupError("backup header without a usable IV")
    return BackupHeader(version, iv, start + size)


def crypt15_key(root: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"backup encryption").derive(
        root
    )


def cipher_key(header: BackupHeader, key: ChatKey) -> bytes:
    return crypt15_key(key.key32) if header.version == "crypt15" else key.key32


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def decrypt_backup(src: Path, key: ChatKey, dest: Path) -> BackupHeader:
    """Decrypt and inflate `src` into `dest`; raise WrongKey or BackupError.

    `dest` holds data only once the tag verified; on any error it is removed.
    """
    try:
        return _decrypt(src, key, dest)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def _decrypt(src: Path, key: ChatKey, dest: Path) -> BackupHeader:
    size = src.stat().st_size
    with src.open("rb") as fh, dest.open("wb") as out:
        head = fh.read(258)
        header = read_header(head)
        body = size - header.body_start
        if body < TRAILER + 2:
            raise BackupError(f"truncated: {body} bytes after the header")
        fh.seek(0)
        md5 = hashlib.md5(fh.read(header.body_start), usedforsecurity=False)
        dec = Cipher(algorithms.AES(cipher_key(header, key)), modes.GCM(header.iv)).decryptor()
        inflate: zlib._Decompress | None = zlib.decompressobj()
        broken: str | None = None
        first = True
        left = body - TRAILER

        def feed(ct: bytes) -> None:
            nonlocal inflate, broken, first
            plain = dec.update(ct)
            if first and plain:
                first = False
                if not _zlib_header(plain):
                    raise WrongKey("wrong key: the decrypted data is not a WhatsApp backup")
            if inflate is not None and plain:
                try:
                    out.write(inflate.decompress(plain))
                except zlib.error as exc:
                    broken, inflate = f"decrypted data does not inflate ({exc})", None

        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise BackupError("truncated while reading")
            left -= len(chunk)
            md5.update(chunk)
            feed(chunk)
        tail = fh.read(TRAILER)
        md5.update(tail[:16])
        if md5.digest() == tail[16:]:
            tag = tail[:16]
        else:  # no MD5 trailer (or a damaged file: then the tag fails below)
            feed(tail[:16])
            tag = tail[16:]
        try:
            dec.finalize_with_tag(tag)
        except InvalidTag:
            raise BackupError(
                "GCM authentication failed: the backup is truncated or altered (or the key is "
                "wrong); nothing of it is used"
            ) from None
        if broken or inflate is None:
            raise BackupError(broken or "decrypted data does not inflate")
        out.write(inflate.flush())
        if not inflate.eof:
            raise BackupError("decrypted data ends before the compressed database does")
    with dest.open("rb") as check:
        if check.read(16) != SQLITE_MAGIC:
            raise BackupError("decrypted, but the content is not a SQLite database")
    return header


class WhatsAppBackupParser(ChatParser):
    """`msgstore*.db.crypt14/.crypt15`: decrypted with a supplied key, then parsed like the
    phone's own `msgstore.db` (with `wa.db` beside the backup when the exhibit has it)."""

    name = "whatsapp_backup"
    FILE_NAMES = ("msgstore*.db.crypt14", "msgstore*.db.crypt15")

    def parse(self, path: Path, ctx: ParseContext) -> ChatRecords:
        from tantalio.chats.registry import parse_file  # the msgstore parsers choose

        out = ChatRecords()
        keys = ctx.keys.for_file(ctx.label) if ctx.keys else []
        if not keys:
            out.warn(
                ctx.label,
                "encrypted WhatsApp backup not read: give its key with --key FILE|HEX "
                "(`tantalio ingest`: --chat-key)",
            )
            return out
        wrong: list[str] = []
        with tempfile.TemporaryDirectory(prefix="tantalio-decrypted-") as tmp:
            dest = Path(tmp) / "msgstore.db"
            for key in keys:
                try:
                    header = decrypt_backup(path, key, dest)
                except WrongKey:
                    wrong.append(key.fingerprint)
                    continue
                except (BackupError, OSError) as exc:
                    out.warn(ctx.label, f"{exc}")
                    return out
                if ctx.keys is not None:
                    ctx.keys.record_use(ctx.label, key)
                wadb = path.with_name("wa.db")
                if wadb.is_file():
                    shutil.copyfile(wadb, dest.with_name("wa.db"))
                parsed = parse_file(dest, ctx) or ChatRecords()
                parsed.sources = [
                    f"{s} from {header.version}, key {key.fingerprint}" for s in parsed.sources
                ]
                return parsed
        which = (
            f"none of the keys {', '.join(wrong)} opens"
            if len(wrong) > 1
            else (f"key {wrong[0]} does not open")
        )
        out.warn(ctx.label, f"wrong key: {which} this backup; it is not read")
        return out
