"""The exchange's list-signing key: an Ed25519 key in a PEM file apart from the database
(created mode 0600 on first use), so a copy of the database cannot sign lists."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tantalio.hashsets.signed import generate_keypair, load_private_key, save_private_key


def load_or_create(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The key in `path`, created there (mode 0600, exclusively) when the file is missing.
    A key file readable by others is refused."""
    p = Path(path)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        private, _ = generate_keypair()
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use that one
            return load_or_create(p)
        os.close(fd)
        save_private_key(private, p)
        return private
    mode = p.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(
            f"{p}: the exchange signing key is readable by others (mode {mode:o}); chmod 600 it"
        )
    return load_private_key(p)


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
