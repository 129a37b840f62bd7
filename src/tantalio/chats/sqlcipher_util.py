"""Opening SQLCipher databases (Signal for Android) with the examiner's key, into a private
plaintext copy that the ordinary SQLite parsers read.

Signal keeps a random 32-byte secret (its `DatabaseSecret`, stored wrapped by the Android
Keystore) and gives SQLCipher its 64-hex text as the passphrase, with `kdf_iter = 1` and
4096-byte pages; other SQLCipher 4 settings are the defaults. Older installations ran
SQLCipher 3 with the same passphrase. Both are tried, then the 32 bytes as a raw key
(`x'…'`), so a key extracted by another tool in either form opens the database.

The database and its `-wal` are copied to a private temporary directory first (SQLCipher,
like SQLite, writes beside a database it opens); the plaintext is `sqlcipher_export`-ed next
to that copy, never beside the evidence.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tantalio.chats.keys import ChatKey

PROFILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signal (SQLCipher 4, kdf_iter 1)", ("PRAGMA kdf_iter = 1", "PRAGMA cipher_page_size = 4096")),
    (
        "signal (SQLCipher 3, kdf_iter 1)",
        ("PRAGMA cipher_compatibility = 3", "PRAGMA kdf_iter = 1"),
    ),
    ("raw key (SQLCipher 4)", ()),
)


class CipherError(Exception):
    """The database could not be opened with any of the keys; the message says why."""


def sqlcipher_available() -> bool:
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return False
    return True


def _connect(db: Path, key: ChatKey, profile: int) -> object:
    import sqlcipher3

    name, pragmas = PROFILES[profile]
    conn = sqlcipher3.connect(str(db))
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported by us, once
    hex_key = key.key32.hex()
    if name.startswith("raw"):
        conn.execute(f"PRAGMA key = \"x'{hex_key}'\"")
    else:
        conn.execute(f"PRAGMA key = '{hex_key}'")
    for pragma in pragmas:
        conn.execute(pragma)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        raise
    return conn


def decrypt_to(src: Path, keys: list[ChatKey], dest: Path) -> tuple[ChatKey, str]:
    """Export `src` (SQLCipher) as a plaintext database `dest`; the key and the profile that
    opened it. Raises CipherError naming the keys (by fingerprint) that did not."""
    import sqlcipher3

    work = dest.parent / ("cipher-" + src.name)
    shutil.copyfile(src, work)
    wal = src.with_name(src.name + "-wal")
    if wal.is_file():
        shutil.copyfile(wal, work.with_name(work.name + "-wal"))
    damaged: list[str] = []
    for key in keys:
        for profile, (name, _pragmas) in enumerate(PROFILES):
            try:
                conn = _connect(work, key, profile)
            except sqlcipher3.DatabaseError as exc:
                if "not a database" not in str(exc):  # the key opened page 1: damage after it
                    damaged.append(f"key {key.fingerprint}: {exc}")
                continue
            try:
                conn.execute(f"ATTACH DATABASE '{dest}' AS plaintext KEY ''")  # type: ignore[attr-defined]
                conn.execute("SELECT sqlcipher_export('plaintext')")  # type: ignore[attr-defined]
                conn.execute("DETACH DATABASE plaintext")  # type: ignore[attr-defined]
            except sqlcipher3.DatabaseError as exc:
                raise CipherError(f"opened with key {key.fingerprint} but damaged: {exc}") from None
            finally:
                conn.close()  # type: ignore[attr-defined]
            return key, name
    if damaged:
        raise CipherError(f"damaged or truncated SQLCipher database ({damaged[0]})")
    which = ", ".join(k.fingerprint for k in keys)
    opens = f"none of the keys {which} opens" if len(keys) > 1 else f"key {which} does not open"
    raise CipherError(f"wrong key: {opens} this database (or it is not a SQLCipher database)")
