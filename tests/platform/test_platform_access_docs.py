"""Issue 16: the platform's access log (method, route, status, time, key id; never hash
values) written by a real `tantalio platform serve`, and the OpenAPI docs page working offline
(every asset bundled: the page names no other host)."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from platform_helpers import Env

from tantalio.platform.auth import create_key
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import ApiKeyRecord


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _access_lines(log: str) -> list[str]:
    return [line.split("tantalio.platform.access: ", 1)[1] for line in log.splitlines()
            if "tantalio.platform.access: " in line]  # fmt: skip


CHROMIUM = "/usr/bin/chromium"


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, str, ApiKeyRecord, Path]:
    """A real `tantalio platform serve` on a free port, started; its stderr in a file."""
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store = PlatformStore(db)
    token, key = create_key(store, "matcher", ["lookup", "curate"], rate_per_s=100, burst=100)
    store.close()
    port = _free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "tantalio.cli.main", "platform", "serve", "--db", db]
    with log.open("wb") as err:
        proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 60
    while "Application startup complete" not in log.read_text():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"serve did not start: {log.read_text()}")
        time.sleep(0.1)
    return proc, port, token, key, log


@pytest.mark.slow
def test_serve_writes_the_access_log_without_values(tmp_path: Path) -> None:
    proc, port, token, key, log = _serve(tmp_path)
    pdq_a, pdq_b, md5 = secrets.token_hex(32), secrets.token_hex(32), secrets.token_hex(16)
    bank = f"bank-{secrets.token_hex(4)}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            raw = c.get(
                "/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq_a}, headers=auth
            )
            hma = c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq_b}, headers=auth)
            named = c.get(f"/v1/banks/{bank}", headers=auth)
            stray = c.get(f"/v1/hashes/{md5}")
            docs = c.get("/v1/docs", headers=auth)
            css = c.get("/v1/docs/assets/swagger-ui.css")
        assert (raw.status_code, hma.status_code, named.status_code) == (200, 200, 404)
        assert (stray.status_code, docs.status_code, css.status_code) == (404, 200, 200)
        deadline = time.time() + 10
        while len(_access_lines(log.read_text())) < 6 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    lines = _access_lines(text)
    pattern = r"(GET) (\S+) (\d{3}) \d+\.\dms key_id=(\S+) key=(\S+)"
    parsed = [re.fullmatch(pattern, line).groups() for line in lines]  # type: ignore[union-attr]
    assert [p[:4] for p in parsed] == [
        ("GET", "/m/raw_lookup", "200", str(key.id)),
        ("GET", "/m/lookup", "200", str(key.id)),
        ("GET", "/v1/banks/{name}", "404", str(key.id)),
        ("GET", "-", "404", "-"),  # nothing matched: the path as sent is not logged
        ("GET", "/v1/docs", "200", parsed[4][3]),
        ("GET", "/v1/docs/assets/{file}", "200", "-"),
    ]
    assert parsed[0][4] == key.prefix
    for value in (pdq_a, pdq_b, md5, bank, token):
        assert value not in text


def test_docs_page_names_no_other_host(env: Env) -> None:
    page = env.client.get("/v1/docs", headers=env.lookup)
    assert page.status_code == 200
    html = page.text
    assert "SwaggerUIBundle" in html
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I), html
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/v1/docs/assets/") for r in refs), refs
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
    # The description is embedded: the page's own fetch of /v1/openapi.json would carry no
    # key, and that route (like the page) answers only with one.
    assert '"spec": {' in html and '"openapi":' in html
    for ref in refs:
        asset = env.client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 100, ref
    css = env.client.get("/v1/docs/assets/swagger-ui.css").text
    assert not re.findall(r"url\((?!['\"]?data:)", css)  # the stylesheet loads nothing either
    assert env.client.get("/v1/openapi.json", headers=env.lookup).status_code == 200


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_docs_page_renders_in_chromium_with_every_other_host_cut_off(tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    proc, port, token, _key, _log = _serve(tmp_path)
    base = f"http://127.0.0.1:{port}"
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(extra_http_headers={"Authorization": f"Bearer {token}"})
            page.route("**/*", only_this_server)
            page.goto(f"{base}/v1/docs")
            page.wait_for_selector(".opblock", timeout=30_000)  # the operations are drawn
            title = page.inner_text(".info")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "tantalio platform matching service" in title
    assert elsewhere == []
