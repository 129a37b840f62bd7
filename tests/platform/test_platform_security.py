"""Keys (hashed, scoped, rate-limited, revocable), no hash values in logs, body limits, and
URL fetching that refuses internal addresses."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from platform_helpers import Env, benign_image, make_config

from tantalio.platform import PlatformService, create_platform_app, urlfetch
from tantalio.platform.auth import create_key, hash_key

SECRET_PDQ = "7e" * 32


def test_keys_are_stored_hashed(env: Env) -> None:
    token, rec = create_key(env.service.store, "t", ["lookup"], rate_per_s=1, burst=1)
    keys = env.service.store.list_keys()
    assert all(token not in (k.key_hash, k.prefix) for k in keys)
    assert rec.key_hash == hash_key(token) and token.startswith(f"tnt_{rec.prefix}_")


def test_scopes(env: Env) -> None:
    c = env.client
    q = {"signal_type": "pdq", "signal": SECRET_PDQ}
    assert c.get("/m/raw_lookup", params=q).status_code == 401
    assert (
        c.get(
            "/m/raw_lookup", params=q, headers={"Authorization": "Bearer tnt_bad_key"}
        ).status_code
        == 401
    )
    assert c.get("/m/raw_lookup", params=q, headers=env.lookup).status_code == 200
    assert c.get("/m/raw_lookup", params=q, headers=env.curate).status_code == 403
    assert (
        c.get("/m/raw_lookup", params=q, headers=env.admin).status_code == 200
    )  # admin implies all
    assert c.post("/c/banks", json={"name": "X"}, headers=env.lookup).status_code == 403
    assert c.post("/c/banks", json={"name": "X"}, headers=env.curate).status_code == 201
    assert c.get("/v1/keys", headers=env.curate).status_code == 403
    made = c.post("/v1/keys", json={"name": "new", "scopes": ["lookup"]}, headers=env.admin).json()
    assert (
        made["key"].startswith("tnt_")
        and "key" not in c.get("/v1/keys", headers=env.admin).json()[0]
    )
    # X-API-Key works too, for clients that cannot set Authorization.
    assert c.get("/m/raw_lookup", params=q, headers={"X-API-Key": made["key"]}).status_code == 200


def test_rate_limit_per_key(env: Env) -> None:
    # One token every 2 s: slow enough that a loaded test machine cannot refill mid-burst.
    token, _ = create_key(env.service.store, "slow", ["lookup"], rate_per_s=0.5, burst=3)
    other, _ = create_key(env.service.store, "other", ["lookup"], rate_per_s=0.5, burst=3)
    q = {"signal_type": "pdq", "signal": SECRET_PDQ}
    codes = [
        env.client.get(
            "/m/raw_lookup", params=q, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    r = env.client.get("/m/raw_lookup", params=q, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # Another key has its own bucket.
    assert (
        env.client.get(
            "/m/raw_lookup", params=q, headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 200
    )
    time.sleep(2.1)  # refills at 0.5/s
    assert (
        env.client.get(
            "/m/raw_lookup", params=q, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )


def test_revoked_key_stops_working(env: Env) -> None:
    token, rec = create_key(env.service.store, "temp", ["lookup"], rate_per_s=100, burst=100)
    h = {"Authorization": f"Bearer {token}"}
    q = {"signal_type": "pdq", "signal": SECRET_PDQ}
    assert env.client.get("/m/raw_lookup", params=q, headers=h).status_code == 200
    assert env.client.delete(f"/v1/keys/{rec.prefix}", headers=env.admin).json() == {"revoked": 1}
    time.sleep(env.service.config.key_cache_ttl_s + 0.1)
    assert env.client.get("/m/raw_lookup", params=q, headers=h).status_code == 401


def test_hash_values_never_logged(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = env.client
    c.post("/c/banks", json={"name": "LOGS"}, headers=env.admin)
    c.post("/c/bank/LOGS/signal", json={"pdq": SECRET_PDQ}, headers=env.admin)
    c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": SECRET_PDQ}, headers=env.lookup)
    c.get("/m/lookup", params={"signal_type": "pdq", "signal": SECRET_PDQ}, headers=env.lookup)
    c.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": SECRET_PDQ[:-1] + "z"},
        headers=env.lookup,
    )
    c.post("/v1/match", json={"hashes": {"pdq": SECRET_PDQ, "md5": "ab" * 16}}, headers=env.lookup)
    # Everything the service logs (the test's own HTTP client, httpx, logs its URLs: skip it).
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "/m/raw_lookup" in text  # access log is there...
    assert SECRET_PDQ not in text and SECRET_PDQ[:16] not in text and "ab" * 16 not in text


def test_request_body_limit(tmp_path: Path) -> None:
    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'p.db'}", max_body_bytes=10_000))
    token, _ = create_key(svc.store, "k", ["admin"], rate_per_s=100, burst=100)
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_platform_app(service=svc, background=False)) as c:
        r = c.post("/h/hash", files={"photo": ("big.png", b"\0" * 20_000, "image/png")}, headers=h)
        assert r.status_code == 413 and "larger than 10000" in r.json()["message"]

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(5):
                yield b"x" * 4000

        assert c.post("/c/banks", json={"name": "SMALL"}, headers=h).status_code == 201
        r = c.post("/c/bank/SMALL/signal", content=chunks(), headers=h)
        assert r.status_code == 413
    svc.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://localhost/x.png",
        "http://10.1.2.3/x.png",
        "http://192.168.0.10/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://0.0.0.0/x.png",
        "file:///etc/passwd",
        "ftp://example.org/x.png",
        "http://user:pw@127.0.0.1/",
    ],
)
def test_url_fetch_refuses_internal_targets(env: Env, url: str) -> None:
    with pytest.raises(urlfetch.UrlRefused):
        urlfetch.fetch(url, max_bytes=1000, timeout_s=2)
    r = env.client.get("/h/hash", params={"url": url}, headers=env.lookup)
    assert r.status_code == 400 and "url refused" in r.json()["message"]


class _ImageServer:
    def __init__(self, data: bytes, redirect_to: str | None = None) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if redirect_to and self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_url_lookup_when_private_targets_allowed(env: Env) -> None:
    """The fetch path itself, against a loopback server (allowed only by a test setting)."""
    image = benign_image(5)
    srv = _ImageServer(image)
    try:
        env.client.post("/c/banks", json={"name": "URLS"}, headers=env.admin)
        assert (
            env.client.get(
                "/h/hash", params={"url": srv.base + "/a.png"}, headers=env.lookup
            ).status_code
            == 400
        )
        env.service.config.allow_private_urls = True
        hashed = env.client.get(
            "/h/hash", params={"url": srv.base + "/a.png"}, headers=env.lookup
        ).json()
        added = env.client.post(
            "/c/bank/URLS/content",
            params={"url": srv.base + "/a.png"},
            json={"metadata": {"content_id": "u-1"}},
            headers=env.admin,
        )
        assert env.service.entries([added.json()["id"]])[added.json()["id"]].meta == {
            "content_id": "u-1"
        }
        assert added.json()["signals"] == hashed
        found = env.client.get(
            "/m/lookup", params={"url": srv.base + "/a.png"}, headers=env.lookup
        ).json()
        assert found == {
            "pdq": {"URLS": [{"bank_content_id": added.json()["id"], "distance": "0"}]}
        }
    finally:
        env.service.config.allow_private_urls = False
        srv.close()


def test_redirect_to_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each redirect hop is checked again: a first hop that passes cannot bounce the fetch to
    an internal address. The loopback fixture stands in for a public first hop."""
    inner = _ImageServer(b"secret")
    outer = _ImageServer(b"", redirect_to=inner.base + "/x")
    real = urlfetch.resolve_public
    calls: list[str] = []

    def first_hop_public(host: str, port: int, *, allow_private: bool = False) -> str:
        calls.append(host)
        return real(host, port, allow_private=len(calls) == 1)

    monkeypatch.setattr(urlfetch, "resolve_public", first_hop_public)
    try:
        with pytest.raises(urlfetch.UrlRefused, match="private, loopback"):
            urlfetch.fetch(outer.base + "/redirect", max_bytes=100, timeout_s=2)
        assert len(calls) == 2
        calls.clear()
        with pytest.raises(urlfetch.UrlRefused, match="larger than 1 bytes"):
            urlfetch.fetch(inner.base + "/x", max_bytes=1, timeout_s=2)
    finally:
        inner.close()
        outer.close()


def test_streamed_body_over_limit_is_413(tmp_path: Path) -> None:
    """A body sent without Content-Length is counted as it arrives (raw ASGI: no client
    in between that could add the header)."""
    import asyncio

    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'p.db'}", max_body_bytes=10_000))
    token, _ = create_key(svc.store, "k", ["admin"], rate_per_s=100, burst=100)
    svc.start(background=False)
    svc.create_bank("SMALL")
    app = create_platform_app(service=svc, background=False)
    sent: list[dict[str, Any]] = []
    chunks = [b"x" * 4000] * 5

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/c/bank/SMALL/signal",
        "raw_path": b"/c/bank/SMALL/signal",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ],
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"larger than 10000" in body
    svc.close()
