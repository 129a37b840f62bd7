"""Action rules, the review queue's hand-off, and signed webhook delivery with retries.

A rule (bank, category, maximum distance -> action) fires on each match event it covers.
With `review` set, the match waits in the review queue and the webhook goes out only after a
reviewer confirms it; otherwise a delivery is queued at once. Each delivery has a stable
`delivery_id` sent with every attempt, so a receiver can drop duplicates; every attempt
(status code or error, duration) is recorded. Failures are retried with exponential back-off
up to `webhook_max_retries` times after the first attempt.

Signature: ``X-Tantalio-Signature: sha256=HEX`` where HEX is HMAC-SHA256 with the rule's
secret over ``f"{timestamp}.{body}"`` and `timestamp` is the ``X-Tantalio-Timestamp``
header (Unix seconds), so a receiver can also refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tantalio.platform.config import PlatformConfig
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import (
    BankRecord,
    DeliveryRecord,
    EntryRecord,
    MatchEventRecord,
    ReviewItemRecord,
    RuleRecord,
)

log = logging.getLogger(__name__)
DECISIONS = ("confirm", "reject")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver runs: constant-time comparison of the signature header."""
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def rule_covers(rule: RuleRecord, event: MatchEventRecord, entry: EntryRecord | None) -> bool:
    if not rule.enabled:
        return False
    if rule.bank_id is not None and rule.bank_id != event.bank_id:
        return False
    if rule.category is not None and (entry is None or entry.category != rule.category):
        return False
    return rule.max_distance is None or event.distance <= rule.max_distance


class ActionEngine:
    def __init__(self, store: PlatformStore, config: PlatformConfig) -> None:
        self.store = store
        self.config = config
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=config.webhook_timeout_s, follow_redirects=False)

    # -- firing ------------------------------------------------------------------------

    def on_matches(
        self,
        events: Sequence[MatchEventRecord],
        entries: Mapping[int, EntryRecord],
        banks: Mapping[int, BankRecord],
    ) -> None:
        rules = self.store.list_rules(enabled_only=True)
        if not rules:
            return
        queued = False
        for event in events:
            entry = entries.get(event.entry_id)
            for rule in rules:
                if not rule_covers(rule, event, entry):
                    continue
                if rule.review:
                    self.store.create_review_item(event.id, rule.id)
                else:
                    self._queue(rule, event, entry, banks, review=None)
                    queued = True
        if queued:
            self._wake.set()

    def decide(
        self, item: ReviewItemRecord, banks: Mapping[int, BankRecord]
    ) -> DeliveryRecord | None:
        """Feed a review decision to the rule's action: a confirmed match is delivered
        (with the decision in the payload); a rejected one is recorded and goes no further."""
        if item.decision != "confirm":
            return None
        rule = self.store.get_rule(item.rule_id)
        event = self.store.get_match_event(item.match_event_id)
        if rule is None or event is None:
            return None
        entries = {e.id: e for e in self.store.get_entries([event.entry_id])}
        d = self._queue(rule, event, entries.get(event.entry_id), banks, review=item)
        self._wake.set()
        return d

    def _queue(
        self,
        rule: RuleRecord,
        event: MatchEventRecord,
        entry: EntryRecord | None,
        banks: Mapping[int, BankRecord],
        *,
        review: ReviewItemRecord | None,
    ) -> DeliveryRecord:
        bank = banks.get(event.bank_id)
        payload: dict[str, Any] = {
            "action": rule.action,
            "rule": rule.name,
            "match": {
                "event_id": event.id,
                "at": event.at.isoformat(),
                "bank": bank.name if bank else None,
                "entry_id": event.entry_id,
                "signal_type": event.signal_type,
                "distance": event.distance,
                "category": entry.category if entry else None,
                "source_list": entry.source_list if entry else None,
                "original_id": entry.original_id if entry else None,
                "content_ref": event.content_ref,
                "account_id": event.account_id,
            },
        }
        if review is not None:
            payload["review"] = {
                "item_id": review.id,
                "decision": review.decision,
                "decided_by": review.decided_by,
                "decided_at": review.decided_at.isoformat() if review.decided_at else None,
                "notes": review.notes,
            }
        delivery_id = str(uuid.uuid4())
        payload["delivery_id"] = delivery_id
        # The stored payload is exactly the bytes signed and sent on every attempt.
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        d = self.store.create_delivery(
            rule_id=rule.id,
            match_event_id=event.id,
            action=rule.action,
            payload=body,
            review_item_id=review.id if review else None,
            delivery_id=delivery_id,
        )
        return d

    # -- delivering --------------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        return min(
            self.config.webhook_backoff_base_s * 2 ** (attempts - 1),
            self.config.webhook_backoff_max_s,
        )

    def deliver_due(self, limit: int = 20) -> int:
        """Send every delivery that is due; returns how many attempts were made."""
        now = datetime.now(UTC)
        lease = now + timedelta(seconds=self.config.webhook_timeout_s * 2 + 5)
        due = self.store.claim_due_deliveries(now, lease, limit)
        rules = {r.id: r for r in self.store.list_rules()}
        for d in due:
            rule = rules.get(d.rule_id)
            if rule is None:
                continue
            self._attempt(d, rule)
        return len(due)

    def _attempt(self, d: DeliveryRecord, rule: RuleRecord) -> DeliveryRecord:
        body = d.payload.encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tantalio-platform",
            "X-Tantalio-Delivery": d.delivery_id,
            "X-Tantalio-Action": d.action,
            "X-Tantalio-Attempt": str(d.attempts + 1),
            "X-Tantalio-Timestamp": ts,
            "X-Tantalio-Signature": sign(rule.webhook_secret, ts, body),
        }
        t0 = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            resp = self._client.post(rule.webhook_url, content=body, headers=headers)
            code = resp.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        ms = (time.perf_counter() - t0) * 1000
        ok = error is None
        attempts = d.attempts + 1
        nxt = None
        if not ok and attempts <= self.config.webhook_max_retries:
            nxt = datetime.now(UTC) + timedelta(seconds=self.backoff(attempts))
        rec = self.store.record_attempt(
            d.id, status_code=code, error=error, duration_ms=ms, delivered=ok, next_attempt_at=nxt
        )
        if not ok:
            log.warning("delivery %s attempt %d failed: %s", d.delivery_id, attempts, error)
        return rec

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver_due()
                except Exception:
                    log.exception("delivery pass failed")
                self._wake.wait(self.config.delivery_poll_s)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="platform-deliveries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
