"""Signed checkpoints of the audit log's head, kept outside the database (issue 14).

The hash chain in the database shows an edited or deleted row, but not a rewrite of the whole
chain, nor the newest rows deleted together with `audit_head` put back: whoever can write the
database can recompute it. So every commit that appends audit events also appends a
checkpoint — the new head's sequence number and hash, the time, signed with an Ed25519 key —
to a file outside the database. `tantalio audit verify` checks each checkpoint's signature and
that the database still holds the event it names with the same hash: a truncated log names a
checkpoint past its end, a rewritten one a different hash.

Where: `<workspace>/anchor/` (`audit-anchor.key` mode 0600, `audit-anchor.pub`,
`audit-checkpoints.jsonl`), or the folder `TANTALIO_AUDIT_ANCHOR` names (another volume, a
write-once share). The key is made at `tantalio init` (or on first use in an older workspace);
it is never recreated while checkpoints exist, since a new key would hide a swap. What this
does and does not detect: docs/decisions/integrity.md.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tantalio.hashsets.signed import (
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
    save_private_key,
    save_public_key,
)
from tantalio.store.timeutil import utcnow

ENV_ANCHOR = "TANTALIO_AUDIT_ANCHOR"
KEY_FILE = "audit-anchor.key"
PUB_FILE = "audit-anchor.pub"
LOG_FILE = "audit-checkpoints.jsonl"
_DOMAIN = "tantalio audit checkpoint v1"

log = logging.getLogger(__name__)


def _message(seq: int, digest: str, at: str, kid: str) -> bytes:
    return f"{_DOMAIN}\n{seq}\n{digest}\n{at}\n{kid}".encode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    line: int
    seq: int
    hash: str
    at: str
    key_id: str
    valid: bool  # the signature checks out with the anchor's public key


class Anchor:
    """The checkpoint folder of one workspace."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.key_path = self.dir / KEY_FILE
        self.pub_path = self.dir / PUB_FILE
        self.log_path = self.dir / LOG_FILE
        self._key: Ed25519PrivateKey | None = None

    @classmethod
    def for_workspace(cls, workspace_dir: Path | None) -> Anchor | None:
        """`TANTALIO_AUDIT_ANCHOR`, else `<workspace>/anchor`; None for a workspace opened
        from a bare database URL without that variable (no anchoring)."""
        env = os.environ.get(ENV_ANCHOR)
        if env:
            return cls(env)
        return None if workspace_dir is None else cls(workspace_dir / "anchor")

    def ensure_key(self) -> None:
        """Create the key pair when there is none and no checkpoint was ever written."""
        if self.key_path.exists():
            return
        if self.log_path.exists() and self.log_path.stat().st_size:
            raise FileNotFoundError(
                f"{self.key_path}: the audit anchor key is missing but checkpoints exist; "
                "restore the key (a new one would hide a swap)"
            )
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        private, public = generate_keypair()
        save_private_key(private, self.key_path)
        save_public_key(public, self.pub_path)

    def public_key(self) -> Ed25519PublicKey:
        return load_public_key(self.pub_path)

    def key_id(self) -> str:
        return key_id(self.public_key())

    def checkpoint(self, seq: int, digest: str) -> dict[str, Any]:
        """Sign the head `seq`/`digest` and append it as one line (one write, O_APPEND: lines
        from several processes never interleave), flushed to disk."""
        self.ensure_key()
        if self._key is None:
            self._key = load_private_key(self.key_path)
        kid = key_id(self._key.public_key())
        at = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sig = self._key.sign(_message(seq, digest, at, kid))
        record = {
            "seq": seq,
            "hash": digest,
            "at": at,
            "key_id": kid,
            "sig": base64.b64encode(sig).decode(),
        }
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def read(self) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint with its signature checked, and the lines that are not one."""
        if not self.log_path.exists():
            return [], []
        public = self.public_key()
        kid = key_id(public)
        out, problems = [], []
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, start=1):
                try:
                    rec = json.loads(text)
                    seq, digest, at = int(rec["seq"]), str(rec["hash"]), str(rec["at"])
                    sig = base64.b64decode(rec["sig"], validate=True)
                    signer = str(rec["key_id"])
                except (ValueError, KeyError, TypeError):
                    problems.append(f"checkpoint line {number}: not a checkpoint (edited?)")
                    continue
                try:
                    public.verify(sig, _message(seq, digest, at, signer))
                    valid = signer == kid
                except InvalidSignature:
                    valid = False
                out.append(Checkpoint(number, seq, digest, at, signer, valid))
        return out, problems


def write_checkpoint(anchor: Anchor | None, seq: int, digest: str) -> None:
    """Anchor a committed head; a failure is logged, never raised: the action it records is
    already committed, and `audit verify` shows the gap (no checkpoint for the newest events)."""
    if anchor is None:
        return
    try:
        anchor.checkpoint(seq, digest)
    except Exception as exc:
        log.warning("audit checkpoint for event %d not written to %s: %s", seq, anchor.dir, exc)
