"""Where signed deltas come from: an exchange's list URL, or a folder of delta files.

Sources only fetch bytes; nothing here is trusted. Every document is verified by
`tantalio.hashsets.deltas.verify_delta` against the key pinned at subscribe time before any
of it is used, so a source (a mirror, a USB stick, a compromised exchange) can withhold or
replay deltas, which the chain check refuses, but cannot make a subscriber apply anything
the issuer did not sign.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

MAX_DELTA_BYTES = 256 << 20  # one delta document; larger ones are refused, not read
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class SourceError(RuntimeError):
    """The source could not be read (unreachable, refused, malformed answer)."""


class DeltaSource(Protocol):
    @property
    def description(self) -> str: ...

    def fetch(self, after_seq: int) -> list[bytes]:
        """Signed delta documents after `after_seq`, in the order they should be applied."""
        ...

    def list_name(self) -> str | None:
        """The list's name as the source knows it (None when only the deltas say)."""
        ...


def _peek_seq(data: bytes) -> tuple[int, str] | None:
    """(seq, list) read from an unverified document, only to order and select files."""
    try:
        payload = json.loads(data.decode("utf-8-sig")).get("payload", {})
        seq = payload.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            return seq, str(payload.get("list", ""))
    except (UnicodeDecodeError, ValueError, AttributeError):
        pass
    return None


@dataclass(slots=True)
class FolderSource:
    """A folder of delta documents (`*.json`), e.g. a list delivered on removable media.
    Files that are not deltas are reported, never skipped silently."""

    path: Path

    @property
    def description(self) -> str:
        return str(self.path)

    def _documents(self) -> list[tuple[int, str, Path, bytes]]:
        if not self.path.is_dir():
            raise SourceError(f"{self.path}: not a folder of delta files")
        out = []
        for file in sorted(self.path.glob("*.json")):
            if file.stat().st_size > MAX_DELTA_BYTES:
                raise SourceError(f"{file}: larger than {MAX_DELTA_BYTES >> 20} MiB; refused")
            data = file.read_bytes()
            peek = _peek_seq(data)
            if peek is None:
                raise SourceError(f"{file}: not a signed delta document (no payload seq)")
            out.append((peek[0], peek[1], file, data))
        return sorted(out, key=lambda d: (d[0], d[2].name))

    def fetch(self, after_seq: int) -> list[bytes]:
        return [data for seq, _, _, data in self._documents() if seq > after_seq]

    def list_name(self) -> str | None:
        docs = self._documents()
        return docs[0][1] if docs else None


@dataclass(slots=True)
class ExchangeListSource:
    """`https://exchange/v1/lists/NAME` (docs/exchange-api.md): deltas after a sequence
    number, with the agency's key. TLS is verified; plain http only to this machine."""

    url: str
    key: str
    ca_cert: str | None = None
    timeout_s: float = 60.0

    @property
    def description(self) -> str:
        return self.url

    def list_name(self) -> str | None:
        return self.url.rstrip("/").rsplit("/", 1)[-1] or None

    def fetch(self, after_seq: int) -> list[bytes]:
        import httpx

        verify: bool | str = self.ca_cert or True
        headers = {"Authorization": f"Bearer {self.key}"}
        try:
            with httpx.Client(verify=verify, timeout=self.timeout_s) as client:
                reply = client.get(
                    f"{self.url.rstrip('/')}/deltas", params={"after": after_seq}, headers=headers
                )
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.url}: exchange unreachable ({exc})") from None
        if reply.status_code in (401, 403):
            raise SourceError(
                f"{self.url}: the exchange refused the key ({reply.status_code}); "
                "check --key or `tantalio exchange connect`"
            )
        if reply.status_code == 429:
            wait = reply.headers.get("Retry-After", "?")
            raise SourceError(f"{self.url}: rate limited by the exchange; retry in {wait} s")
        if reply.status_code != 200:
            raise SourceError(f"{self.url}: the exchange answered {reply.status_code}")
        try:
            body = reply.json()
            docs = body["deltas"]
            if not isinstance(docs, list) or not all(isinstance(d, str) for d in docs):
                raise TypeError("'deltas' is not a list of documents")
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{self.url}: malformed answer ({exc})") from None
        return [d.encode("utf-8") for d in docs]


def open_source(source: str, *, key: str | None = None, ca_cert: str | None = None) -> DeltaSource:
    """A folder path, or an exchange list URL (`https://…/v1/lists/NAME`)."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        if parts.scheme == "http" and (parts.hostname or "") not in LOCAL_HOSTS:
            raise SourceError(f"{source}: plain http is accepted only for this machine; use https")
        key = key or os.environ.get("TANTALIO_EXCHANGE_KEY")
        if not key:
            raise SourceError(
                f"{source}: an exchange needs the agency's key (--key or TANTALIO_EXCHANGE_KEY)"
            )
        return ExchangeListSource(source, key, ca_cert)
    if parts.scheme == "file":
        return FolderSource(Path(parts.path))
    if parts.scheme:
        raise SourceError(f"{source}: unsupported source (a folder or an https:// exchange URL)")
    return FolderSource(Path(source))


def canonical_source(source: str) -> str:
    """What a subscription stores: URLs as given, folders as absolute paths (a later pull
    may run from another directory)."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        return source
    if parts.scheme == "file":
        return str(Path(parts.path).resolve())
    return str(Path(source).expanduser().resolve())
