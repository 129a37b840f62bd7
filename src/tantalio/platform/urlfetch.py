"""Fetch media by URL for HMA's `url=` parameters, refusing internal targets.

A matching service that fetches any URL is a server-side request forgery tool: it would
reach the cloud metadata endpoint, admin consoles on loopback, the database. The host is
resolved once, every address is checked (private, loopback, link-local, reserved, multicast,
unspecified, and IPv4-mapped forms of them are refused), and the connection is made to the
checked address itself (Host header and TLS SNI keep the name), so a DNS answer cannot
change between check and use. Redirects are followed by hand, each hop checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

MAX_REDIRECTS = 3


class UrlRefused(ValueError):
    """The URL may not be fetched (scheme, address, size)."""


@dataclass(slots=True)
class Fetched:
    data: bytes
    content_type: str


def _refused(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
        or not addr.is_global
    )


def resolve_public(host: str, port: int, *, allow_private: bool = False) -> str:
    """The first address of `host`, after checking that none of its addresses is internal."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UrlRefused(f"cannot resolve host: {exc.strerror}") from None
    addrs = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    if not addrs:
        raise UrlRefused("host has no address")
    if not allow_private:
        for a in addrs:
            if _refused(a):
                raise UrlRefused("URL points to a private, loopback or reserved address")
    return str(addrs[0])


def fetch(url: str, *, max_bytes: int, timeout_s: float, allow_private: bool = False) -> Fetched:
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UrlRefused("only http and https URLs with a host can be fetched")
        if parts.username or parts.password:
            raise UrlRefused("URLs with credentials are not fetched")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = resolve_public(parts.hostname, port, allow_private=allow_private)
        host_for_url = f"[{ip}]" if ":" in ip else ip
        pinned = urlunsplit(
            (parts.scheme, f"{host_for_url}:{port}", parts.path or "/", parts.query, "")
        )
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": "tantalio-platform"}
        ext = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            req = client.build_request("GET", pinned, headers=headers, extensions=ext)
            resp = client.send(req, stream=True)
            try:
                if resp.is_redirect and "location" in resp.headers:
                    url = str(httpx.URL(url).join(resp.headers["location"]))
                    continue
                if resp.status_code != 200:
                    raise UrlRefused(f"fetching the URL returned HTTP {resp.status_code}")
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise UrlRefused(f"content larger than {max_bytes} bytes")
                buf = bytearray()
                for chunk in resp.iter_bytes():
                    buf += chunk
                    if len(buf) > max_bytes:
                        raise UrlRefused(f"content larger than {max_bytes} bytes")
                return Fetched(bytes(buf), resp.headers.get("content-type", ""))
            finally:
                resp.close()
    raise UrlRefused("too many redirects")
