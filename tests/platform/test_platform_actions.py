"""Action rules fire HMAC-signed webhooks to a real receiver on 127.0.0.1, retried with
back-off after failures; the review queue holds matches until a reviewer decides."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from platform_helpers import Env

from tantalio.platform.actions import verify_signature

SECRET = "webhook-secret-0123456789"


class Receiver:
    """A tiny HTTP server: answers each POST with the next scripted status (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {"headers": dict(self.headers), "body": body, "t": time.monotonic()}
                )
                code = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    r = Receiver(getattr(request, "param", []))
    yield r
    r.close()


def _setup(env: Env, url: str, *, review: bool, max_distance: int | None = None) -> str:
    c = env.client
    assert c.post("/v1/banks", json={"name": "CSAM_STANDINS"}, headers=env.admin).status_code == 201
    h = "3c" * 32
    r = c.post(
        "/v1/banks/CSAM_STANDINS/entries",
        headers=env.curate,
        json={
            "entries": [
                {"pdq": h, "category": 1, "source_list": "baseline.json", "original_id": "B-17"}
            ]
        },
    )
    assert r.status_code == 201, r.text
    rule = {
        "name": "ban-cat1",
        "action": "disable_account",
        "webhook_url": url,
        "webhook_secret": SECRET,
        "bank": "CSAM_STANDINS",
        "category": 1,
        "max_distance": max_distance,
        "review": review,
    }
    assert c.post("/v1/rules", json=rule, headers=env.admin).status_code == 201
    assert c.post("/v1/rules", json=rule, headers=env.curate).status_code == 403  # admin only
    return h


def _match(env: Env, h: str) -> dict[str, Any]:
    r = env.client.post(
        "/v1/match",
        headers=env.lookup,
        json={
            "hashes": {"pdq": h},
            "content_ref": "upload-1",
            "account": {"id": "acct-9", "username": "uploader9"},
            "upload": {"time": "2026-11-01T10:00:00Z", "ip": "198.51.100.7"},
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def _drain(env: Env, want: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        env.service.actions.deliver_due()
        done = env.service.store.list_deliveries(status="pending")
        if not done and len(env.service.store.list_deliveries()) >= want:
            return
        assert time.monotonic() < deadline, "deliveries still pending"
        time.sleep(0.02)


@pytest.mark.parametrize("receiver", [[500, 503, 200]], indirect=True)
def test_webhook_retried_until_delivered(env: Env, receiver: Receiver) -> None:
    env.service.config.webhook_backoff_base_s = 0.2  # 0.2 s then 0.4 s: measurable under load
    h = _setup(env, receiver.url, review=False)
    body = _match(env, h)
    assert body["matches"][0]["provenance"]["original_id"] == "B-17"
    _drain(env, 1)
    assert len(receiver.requests) == 3
    ids = {r["headers"]["X-Tantalio-Delivery"] for r in receiver.requests}
    assert len(ids) == 1  # one idempotent delivery id for every attempt
    assert [r["headers"]["X-Tantalio-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    gaps = [b["t"] - a["t"] for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    # Exponential back-off: each wait at least base * 2**(n-1) (lower bounds: load-proof).
    assert gaps[0] >= 0.2 * 0.95 and gaps[1] >= 0.4 * 0.95
    for req in receiver.requests:
        hd = req["headers"]
        assert verify_signature(
            SECRET, hd["X-Tantalio-Timestamp"], req["body"], hd["X-Tantalio-Signature"]
        )
        assert not verify_signature(
            "wrong-secret-xxxxxxxx",
            hd["X-Tantalio-Timestamp"],
            req["body"],
            hd["X-Tantalio-Signature"],
        )
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["action"] == "disable_account" and payload["match"]["account_id"] == "acct-9"
    assert payload["delivery_id"] == ids.pop()
    d = env.client.get(f"/v1/deliveries/{payload['delivery_id']}", headers=env.admin).json()
    assert d["status"] == "delivered" and d["attempts"] == 3
    assert [a["status_code"] for a in d["attempt_log"]] == [500, 503, 200]


@pytest.mark.parametrize("receiver", [[500] * 10], indirect=True)
def test_webhook_gives_up_after_five_retries(env: Env, receiver: Receiver) -> None:
    h = _setup(env, receiver.url, review=False)
    _match(env, h)
    _drain(env, 1)
    [d] = env.service.store.list_deliveries()
    assert d.status == "failed" and d.attempts == 6  # first try + 5 retries
    assert len(receiver.requests) == 6 and len(d.attempt_log) == 6


def test_unreachable_receiver_is_recorded(env: Env) -> None:
    h = _setup(env, "http://127.0.0.1:9/closed", review=False)
    env.service.config.webhook_max_retries = 1
    _match(env, h)
    _drain(env, 1)
    [d] = env.service.store.list_deliveries()
    assert d.status == "failed" and all(a.error and a.status_code is None for a in d.attempt_log)


def test_rule_filters_by_distance(env: Env, receiver: Receiver) -> None:
    h = _setup(env, receiver.url, review=False, max_distance=2)
    far = f"{int(h, 16) ^ 0b111:064x}"  # distance 3: matches the bank, not the rule
    assert _match(env, far)["matches"]
    env.service.actions.deliver_due()
    assert env.service.store.list_deliveries() == [] and receiver.requests == []


def test_review_queue_confirm_feeds_action(any_env: Env, receiver: Receiver) -> None:
    env = any_env  # SQLite and PostgreSQL
    h = _setup(env, receiver.url, review=True)
    _match(env, h)
    env.service.actions.deliver_due()
    assert receiver.requests == []  # held for review
    c = env.client
    queue = c.get("/v1/review", headers=env.curate).json()
    assert len(queue) == 1 and queue[0]["status"] == "pending"
    item = c.post("/v1/review/take", json={}, headers=env.curate).json()
    assert item["status"] == "taken" and item["taken_by"] == "curator"
    assert (
        c.post("/v1/review/take", json={"item_id": item["id"]}, headers=env.admin).status_code
        == 409
    )
    r = c.post(
        f"/v1/review/{item['id']}/decide",
        json={"decision": "confirm", "notes": "verified"},
        headers=env.admin,
    )
    assert r.status_code == 409  # only the reviewer who took it decides
    r = c.post(
        f"/v1/review/{item['id']}/decide",
        json={"decision": "confirm", "notes": "verified"},
        headers=env.curate,
    )
    assert r.status_code == 200 and r.json()["decision"] == "confirm" and r.json()["delivery_id"]
    _drain(env, 1)
    payload = json.loads(receiver.requests[0]["body"])
    assert (
        payload["review"]["decision"] == "confirm" and payload["review"]["decided_by"] == "curator"
    )


def test_review_reject_sends_nothing(env: Env, receiver: Receiver) -> None:
    h = _setup(env, receiver.url, review=True)
    _match(env, h)
    c = env.client
    item = c.post("/v1/review/take", json={}, headers=env.curate).json()
    r = c.post(f"/v1/review/{item['id']}/decide", json={"decision": "reject"}, headers=env.curate)
    assert r.status_code == 200 and r.json()["delivery_id"] is None
    env.service.actions.deliver_due()
    assert receiver.requests == []
    assert c.get("/v1/review?status=decided", headers=env.curate).json()[0]["decision"] == "reject"


def test_background_worker_delivers(env: Env, receiver: Receiver) -> None:
    h = _setup(env, receiver.url, review=False)
    env.service.actions.start()
    try:
        _match(env, h)
        deadline = time.monotonic() + 5
        while not receiver.requests:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        env.service.actions.stop()
