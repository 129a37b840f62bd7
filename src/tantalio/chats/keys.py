"""Keys the examiner supplies for encrypted chat sources (issue 15).

WhatsApp `msgstore.db.crypt14/.crypt15` backups and Signal's SQLCipher database are only
read with a key the examiner gives: a key file (WhatsApp's `key` / `encrypted_backup.key`,
a Java-serialized byte array) or 64 hex digits. A key found on the exhibit is never used
on its own: the parser says where it is and the examiner decides.

Keys live in memory only. What is recorded (the audit log, warnings, `sources`) is the
key's *fingerprint*: the first 16 hex digits of SHA-256 over the key bytes, enough to say
which key opened which file without revealing it.

`KeyRing.parse` reads the command line's values:

- `FILE|HEX`: a key for every encrypted source of the run;
- `PATTERN=FILE|HEX`: a key for the sources whose path inside the exhibit (or base name)
  matches the glob `PATTERN` (`--chat-key 'msgstore.db.crypt15=/keys/encrypted_backup.key'`,
  `--chat-key '*signal.db=0a1b…'`). Specific keys are tried before general ones.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

HEX_KEY = re.compile(r"^(?:0x)?([0-9a-fA-F]{64})$")
# java.io.ObjectOutputStream of a byte[]: stream magic, version, TC_ARRAY, class desc "[B"
# with its serialVersionUID, TC_ENDBLOCKDATA, TC_NULL, then the 4-byte length.
JAVA_BYTE_ARRAY = bytes.fromhex("aced0005757200025b42acf317f8060854e0020000787000")
MAX_KEY_FILE = 4096


class ChatKeyError(ValueError):
    """A key value that is neither a readable key file nor 64 hex digits."""


def java_bytes(data: bytes) -> bytes | None:
    """The payload of a Java-serialized byte[] (WhatsApp's key files), else None."""
    head = len(JAVA_BYTE_ARRAY)
    if not data.startswith(JAVA_BYTE_ARRAY) or len(data) < head + 4:
        return None
    size = int.from_bytes(data[head : head + 4], "big")
    body = data[head + 4 : head + 4 + size]
    return body if len(body) == size else None


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ChatKey:
    """One supplied key: its bytes (32 for a hex key; a key file's payload otherwise)."""

    material: bytes
    origin: str  # "hex" or the key file's path (never the key itself)
    pattern: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.material)

    @property
    def key32(self) -> bytes:
        """The 32-byte key: a hex key as given; a crypt14 `key` file's last 32 bytes (its
        AES key follows the cipher version, key version, salts and IV); a crypt15
        `encrypted_backup.key` is exactly 32."""
        return self.material[-32:]

    def describe(self) -> str:
        return f"key {self.fingerprint} ({'64-hex' if self.origin == 'hex' else self.origin})"

    def applies_to(self, label: str) -> bool:
        if self.pattern is None:
            return True
        pat = self.pattern.lower()
        path = label.lower()
        return fnmatch.fnmatchcase(path, pat) or fnmatch.fnmatchcase(PurePosixPath(path).name, pat)


def read_key(value: str) -> ChatKey:
    """A key from `FILE|HEX`; a clear error when it is neither."""
    value = value.strip()
    found = HEX_KEY.match(value)
    if found:
        return ChatKey(bytes.fromhex(found.group(1)), "hex")
    path = Path(value)
    if not path.is_file():
        raise ChatKeyError(f"key {value[:8]}…: neither 64 hex digits nor a key file")
    if path.stat().st_size > MAX_KEY_FILE:
        raise ChatKeyError(f"{path}: too large for a key file ({path.stat().st_size} bytes)")
    data = path.read_bytes()
    text = data.strip().decode("ascii", "replace")
    if HEX_KEY.match(text):  # a text file holding the 64-hex key
        return ChatKey(bytes.fromhex(HEX_KEY.match(text).group(1)), str(path))  # type: ignore[union-attr]
    body = java_bytes(data)
    if body is None and len(data) in (32, 131):  # the bare bytes, already unwrapped
        body = data
    if body is None or len(body) < 32:
        raise ChatKeyError(f"{path}: not a WhatsApp key file nor a 64-hex key ({len(data)} bytes)")
    return ChatKey(body, str(path))


@dataclass(slots=True)
class KeyRing:
    """The keys of one run, and which of them opened which file (for the audit log)."""

    keys: list[ChatKey] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)  # (file label, fingerprint)

    @classmethod
    def parse(cls, values: list[str] | tuple[str, ...] | None) -> KeyRing:
        ring = cls()
        for value in values or ():
            pattern, sep, rest = value.partition("=")
            if sep and not HEX_KEY.match(value) and not Path(value).is_file():
                ring.keys.append(_with_pattern(read_key(rest), pattern))
            else:
                ring.keys.append(read_key(value))
        return ring

    def for_file(self, label: str) -> list[ChatKey]:
        """The keys to try on `label`, those naming it first."""
        own = [k for k in self.keys if k.pattern is not None and k.applies_to(label)]
        return own + [k for k in self.keys if k.pattern is None]

    def record_use(self, label: str, key: ChatKey) -> None:
        self.used.append((label, key.fingerprint))

    def __bool__(self) -> bool:
        return bool(self.keys)


def _with_pattern(key: ChatKey, pattern: str) -> ChatKey:
    return ChatKey(key.material, key.origin, pattern.strip() or None)
