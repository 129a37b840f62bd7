"""The workspace's client of the central exchange (docs/exchange-api.md).

One synchronous `httpx.Client` per `ExchangeClient`. TLS certificates are verified by
default (a private CA is given with `ca_cert`); plain `http://` is accepted only for
127.0.0.1/localhost/::1 (a test or one-box exchange) unless `insecure_http` says the
operator means it: an agency key sent in clear over a network is a key given away.

Errors are typed so callers can tell "the exchange said no" (401/403/other 4xx: do not retry)
from "the exchange cannot be reached now" (`ExchangeUnreachable`: ingest records the query
as pending and `tantalio exchange sync` catches up). 429 and 503 are retried after the
server's `Retry-After`, at most `max_retries` times and never waiting longer than
`max_wait` seconds at once; then `ExchangeRateLimited`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_BATCH = 10_000  # the contract's limit per request
MIN_BATCH = 1_000
DEFAULT_QUERY_BATCH = 5_000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
STATUSES = ("unidentified", "in-progress", "identified")


class ExchangeError(Exception):
    """The exchange refused or could not answer; the message says what to do."""

    status_code: int | None = None


class ExchangeUnreachable(ExchangeError):
    """No answer (connection refused, DNS, TLS handshake, timeout, 5xx)."""


class ExchangeAuthError(ExchangeError):
    """401: the key is missing, unknown or revoked."""

    status_code = 401


class ExchangeForbidden(ExchangeError):
    """403: the key lacks the route's scope."""

    status_code = 403


class ExchangeRateLimited(ExchangeError):
    """429 still after the bounded retries."""

    status_code = 429


class ExchangeRefused(ExchangeError):
    """Any other 4xx: the request itself was refused (malformed, too large)."""


def check_url(url: str, *, insecure_http: bool = False) -> str:
    """The exchange's base URL without a trailing slash; raises ValueError for a URL that
    is not http(s), or plain http to anything but this machine without `insecure_http`."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r}: the exchange URL must be https://HOST[:PORT]")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not insecure_http:
        raise ValueError(
            f"{url}: plain http sends the agency key in clear; use https, or pass "
            "--insecure-http if this network is trusted"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: the exchange URL takes no query or fragment")
    return url


@dataclass(slots=True)
class PushResult:
    accepted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # pushed again exactly as stored
    refused: list[dict[str, Any]] = field(default_factory=list)  # index into the whole input


@dataclass(slots=True)
class RetractResult:
    retracted: int = 0
    not_found: int = 0


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ExchangeClient:
    """Talks to one exchange with one agency key. Use as a context manager or `close()`."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        ca_cert: str | None = None,
        insecure_http: bool = False,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_wait: float = 30.0,
        query_batch: int = DEFAULT_QUERY_BATCH,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not key or not key.strip():
            raise ValueError("an exchange key is needed (tantalio exchange connect URL --key KEY)")
        if not MIN_BATCH <= query_batch <= MAX_BATCH:
            raise ValueError(f"query batch must be {MIN_BATCH:,}-{MAX_BATCH:,}")
        self.url = check_url(url, insecure_http=insecure_http)
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.query_batch = query_batch
        self._sleep = sleep
        # The system's trust store, or the private CA's certificate alone when one is named.
        try:
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=ca_cert) if ca_cert else True
            )
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"{ca_cert}: not a usable CA certificate (PEM): {exc}") from exc
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key.strip()}", "Accept": "application/json"},
            timeout=timeout,
            verify=verify,
            follow_redirects=False,
        )

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- transport --------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, text: bool = False, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise ExchangeUnreachable(
                    f"the exchange at {self.url} cannot be reached: {_reason(exc)}"
                ) from exc
            code = response.status_code
            if code in (429, 503) and attempt < self.max_retries:
                attempt += 1
                self._sleep(self._retry_after(response, attempt))
                continue
            if code < 400:
                if text and "json" not in response.headers.get("content-type", ""):
                    return response.text
                try:
                    return response.json()
                except ValueError as exc:
                    raise ExchangeUnreachable(
                        f"the exchange at {self.url} answered {method} {path} with no JSON"
                    ) from exc
            raise self._error(method, path, response)

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        value = response.headers.get("Retry-After", "")
        try:
            wait = float(value)
        except ValueError:
            wait = float(2**attempt)
        return max(0.0, min(wait, self.max_wait))

    def _error(self, method: str, path: str, response: httpx.Response) -> ExchangeError:
        code = response.status_code
        detail = ""
        try:
            body = response.json()
            if isinstance(body, dict):
                detail = str(body.get("detail") or body.get("error") or "")
        except ValueError:
            pass
        suffix = f": {detail}" if detail else ""
        where = f"{self.url} ({method} {path})"
        if code == 401:
            return ExchangeAuthError(
                f"the exchange at {where} refused the key (401: unknown or revoked){suffix}; "
                "ask the exchange's admin for a key and run `tantalio exchange connect` again"
            )
        if code == 403:
            return ExchangeForbidden(
                f"the exchange at {where} refused this key's scope (403){suffix}"
            )
        if code == 429:
            error: ExchangeError = ExchangeRateLimited(
                f"the exchange at {where} limits this agency's rate (429 after "
                f"{self.max_retries} retries){suffix}; try again later"
            )
            return error
        if code >= 500:
            error = ExchangeUnreachable(f"the exchange at {where} failed ({code}){suffix}")
        else:
            error = ExchangeRefused(f"the exchange at {where} refused the request ({code}){suffix}")
        error.status_code = code
        return error

    # -- routes -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """`/v1/status`: checks the key (every route needs one)."""
        return dict(self._request("GET", "/v1/status"))

    def push(self, records: Sequence[dict[str, Any]], batch: int = MAX_BATCH) -> PushResult:
        """Push the agency's records; a refused record is reported by its index in
        `records`, the others are stored."""
        out = PushResult()
        start = 0
        for chunk in batches(records, min(batch, MAX_BATCH)):
            body = self._request("POST", "/v1/records", json={"records": list(chunk)})
            out.accepted += int(body.get("accepted", 0))
            out.created += int(body.get("created", 0))
            out.updated += int(body.get("updated", 0))
            out.unchanged += int(body.get("unchanged", 0))
            for refusal in body.get("refused", []):
                out.refused.append(dict(refusal) | {"index": start + int(refusal["index"])})
            start += len(chunk)
        return out

    def retract(self, identities: Sequence[dict[str, Any]]) -> RetractResult:
        out = RetractResult()
        for chunk in batches(identities, MAX_BATCH):
            body = self._request("POST", "/v1/records/retract", json={"records": list(chunk)})
            out.retracted += int(body.get("retracted", 0))
            out.not_found += int(body.get("not_found", 0))
        return out

    def query(
        self, queries: Sequence[dict[str, Any]], *, orientations: bool = True
    ) -> dict[str, list[dict[str, Any]]]:
        """{query id: matches} for every query (an empty list when nothing matched), sent
        `query_batch` at a time."""
        out: dict[str, list[dict[str, Any]]] = {str(q["id"]): [] for q in queries}
        for chunk in batches(queries, self.query_batch):
            body = self._request(
                "POST", "/v1/query", json={"queries": list(chunk), "orientations": orientations}
            )
            for result in body.get("results", []):
                out[str(result["id"])] = list(result.get("matches", []))
        return out

    def changes(self, since: int = 0, limit: int = 1000) -> dict[str, Any]:
        """One page of `/v1/changes` after feed position `since`."""
        return dict(self._request("GET", "/v1/changes", params={"since": since, "limit": limit}))

    def iter_changes(self, since: int = 0, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Every page from `since` on, each with its `last_seq` (store it after applying)."""
        while True:
            page = self.changes(since, limit)
            yield page
            last = int(page.get("last_seq", since))
            if not page.get("more") or last <= since:
                return
            since = last

    def series_links(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/v1/series/links").get("links", []))

    def list_deltas(self, name: str, after: int = 0) -> dict[str, Any]:
        return dict(self._request("GET", f"/v1/lists/{name}/deltas", params={"after": after}))

    def list_key(self, name: str) -> str:
        body = self._request("GET", f"/v1/lists/{name}/key", text=True)
        if isinstance(body, dict):
            return str(body.get("public_key") or body.get("key") or "")
        return str(body)


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in text:
        return f"its TLS certificate is not trusted ({text}); pass --ca-cert for a private CA"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({text})"
    return text


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
