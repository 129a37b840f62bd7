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
        """Every delta after `after_seq`, page by page (the exchange's `more`), through the
        workspace's one exchange client (TLS, loopback-only http, bounded Retry-After)."""
        from tantalio.exchange.client import ExchangeClient, ExchangeError

        base, _, name = self.url.rstrip("/").partition("/v1/lists/")
        if not name or "/" in name:
            raise SourceError(f"{self.url}: not an exchange list URL (https://HOST/v1/lists/NAME)")
        docs: list[bytes] = []
        try:
            with ExchangeClient(
                base, self.key, ca_cert=self.ca_cert, timeout=self.timeout_s
            ) as client:
                after = after_seq
                while True:
                    body = client.list_deltas(name, after=after)
                    page = body.get("deltas")
                    if not isinstance(page, list) or not all(isinstance(d, str) for d in page):
                        raise SourceError(f"{self.url}: malformed answer ('deltas' is not a list)")
                    docs += [d.encode("utf-8") for d in page]
                    if not body.get("more") or not page:
                        return docs
                    after += len(page)
        except (ExchangeError, ValueError) as exc:
            raise SourceError(f"{self.url}: {exc}") from None


def open_source(source: str, *, key: str | None = None, ca_cert: str | None = None) -> DeltaSource:
    """A folder path, or an exchange list URL (`https://…/v1/lists/NAME`)."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https"):
        from tantalio.exchange.client import check_url

        try:
            check_url(source.partition("/v1/lists/")[0])
        except ValueError as exc:
            raise SourceError(str(exc)) from None
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
