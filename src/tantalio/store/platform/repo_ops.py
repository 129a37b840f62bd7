"""Store methods for what happens after a match: rules, match events, review, deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tantalio.store.platform.base import now, utc
from tantalio.store.platform.models import (
    PlatformDelivery,
    PlatformDeliveryAttempt,
    PlatformMatchEvent,
    PlatformReviewItem,
    PlatformRule,
)
from tantalio.store.platform.records import (
    AttemptRecord,
    DeliveryRecord,
    MatchEventRecord,
    ReviewItemRecord,
    RuleRecord,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _rule(r: PlatformRule) -> RuleRecord:
    return RuleRecord(
        id=r.id,
        name=r.name,
        bank_id=r.bank_id,
        category=r.category,
        max_distance=r.max_distance,
        action=r.action,
        review=r.review,
        webhook_url=r.webhook_url,
        webhook_secret=r.webhook_secret,
        enabled=r.enabled,
        created_at=utc(r.created_at),  # type: ignore[arg-type]
    )


def _event(e: PlatformMatchEvent) -> MatchEventRecord:
    return MatchEventRecord(
        id=e.id,
        at=utc(e.at),  # type: ignore[arg-type]
        api_key_id=e.api_key_id,
        entry_id=e.entry_id,
        bank_id=e.bank_id,
        signal_type=e.signal_type,
        distance=e.distance,
        content_ref=e.content_ref,
        account_id=e.account_id,
        account=e.account,
        upload=e.upload,
        file_hashes=e.file_hashes,
    )


def _review(r: PlatformReviewItem) -> ReviewItemRecord:
    return ReviewItemRecord(
        id=r.id,
        match_event_id=r.match_event_id,
        rule_id=r.rule_id,
        status=r.status,
        created_at=utc(r.created_at),  # type: ignore[arg-type]
        taken_by=r.taken_by,
        taken_at=utc(r.taken_at),
        decision=r.decision,
        decided_by=r.decided_by,
        decided_at=utc(r.decided_at),
        notes=r.notes,
    )


def _delivery(
    d: PlatformDelivery, attempts: Sequence[PlatformDeliveryAttempt] = ()
) -> DeliveryRecord:
    return DeliveryRecord(
        id=d.id,
        delivery_id=d.delivery_id,
        rule_id=d.rule_id,
        match_event_id=d.match_event_id,
        review_item_id=d.review_item_id,
        action=d.action,
        payload=d.payload,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=utc(d.next_attempt_at),  # type: ignore[arg-type]
        created_at=utc(d.created_at),  # type: ignore[arg-type]
        delivered_at=utc(d.delivered_at),
        attempt_log=[
            AttemptRecord(a.attempt, utc(a.at), a.status_code, a.error, a.duration_ms)  # type: ignore[arg-type]
            for a in attempts
        ],
    )


class OpsMixin:
    engine: Engine
    session: sessionmaker[Session]

    # -- rules -------------------------------------------------------------------------

    def create_rule(
        self,
        *,
        name: str,
        action: str,
        webhook_url: str,
        webhook_secret: str,
        bank_id: int | None = None,
        category: int | None = None,
        max_distance: int | None = None,
        review: bool = False,
    ) -> RuleRecord:
        with self.session.begin() as s:
            r = PlatformRule(
                name=name,
                action=action,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret,
                bank_id=bank_id,
                category=category,
                max_distance=max_distance,
                review=review,
                enabled=True,
                created_at=now(),
            )
            s.add(r)
            s.flush()
            return _rule(r)

    def list_rules(self, *, enabled_only: bool = False) -> list[RuleRecord]:
        with self.session() as s:
            q = select(PlatformRule).order_by(PlatformRule.id)
            if enabled_only:
                q = q.where(PlatformRule.enabled.is_(True))
            return [_rule(r) for r in s.scalars(q)]

    def get_rule(self, rule_id: int) -> RuleRecord | None:
        with self.session() as s:
            r = s.get(PlatformRule, rule_id)
            return _rule(r) if r else None

    def set_rule_enabled(self, rule_id: int, enabled: bool) -> bool:
        with self.session.begin() as s:
            res = s.execute(
                update(PlatformRule).where(PlatformRule.id == rule_id).values(enabled=enabled)
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]

    # -- match events ------------------------------------------------------------------

    def record_matches(self, events: Iterable[dict[str, Any]]) -> list[MatchEventRecord]:
        with self.session.begin() as s:
            rows = [PlatformMatchEvent(at=now(), **e) for e in events]
            s.add_all(rows)
            s.flush()
            return [_event(r) for r in rows]

    def get_match_event(self, event_id: int) -> MatchEventRecord | None:
        with self.session() as s:
            e = s.get(PlatformMatchEvent, event_id)
            return _event(e) if e else None

    def match_events_for_account(self, account_id: str) -> list[MatchEventRecord]:
        with self.session() as s:
            q = (
                select(PlatformMatchEvent)
                .where(PlatformMatchEvent.account_id == account_id)
                .order_by(PlatformMatchEvent.id)
            )
            return [_event(e) for e in s.scalars(q)]

    # -- review queue ------------------------------------------------------------------

    def create_review_item(self, match_event_id: int, rule_id: int) -> ReviewItemRecord:
        with self.session.begin() as s:
            r = PlatformReviewItem(
                match_event_id=match_event_id, rule_id=rule_id, status="pending", created_at=now()
            )
            s.add(r)
            s.flush()
            return _review(r)

    def list_review(self, status: str | None = None, limit: int = 100) -> list[ReviewItemRecord]:
        with self.session() as s:
            q = select(PlatformReviewItem).order_by(PlatformReviewItem.id).limit(limit)
            if status:
                q = q.where(PlatformReviewItem.status == status)
            return [_review(r) for r in s.scalars(q)]

    def get_review(self, item_id: int) -> ReviewItemRecord | None:
        with self.session() as s:
            r = s.get(PlatformReviewItem, item_id)
            return _review(r) if r else None

    def review_items_for_events(self, event_ids: Iterable[int]) -> list[ReviewItemRecord]:
        ids = list(event_ids)
        if not ids:
            return []
        with self.session() as s:
            q = select(PlatformReviewItem).where(PlatformReviewItem.match_event_id.in_(ids))
            return [_review(r) for r in s.scalars(q)]

    def take_review(self, item_id: int | None, who: str) -> ReviewItemRecord | None:
        """Claim one pending item (a given one, or the oldest); None if none could be had.
        The conditional UPDATE makes two reviewers unable to take the same item."""
        with self.session.begin() as s:
            if item_id is None:
                item_id = s.scalar(
                    select(PlatformReviewItem.id)
                    .where(PlatformReviewItem.status == "pending")
                    .order_by(PlatformReviewItem.id)
                    .limit(1)
                )
                if item_id is None:
                    return None
            res = s.execute(
                update(PlatformReviewItem)
                .where(PlatformReviewItem.id == item_id, PlatformReviewItem.status == "pending")
                .values(status="taken", taken_by=who, taken_at=now())
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return None
            r = s.get(PlatformReviewItem, item_id)
            assert r is not None
            s.refresh(r)
            return _review(r)

    def decide_review(
        self, item_id: int, who: str, decision: str, notes: str | None
    ) -> ReviewItemRecord | None:
        """Record a decision on an item this reviewer holds; None if they do not hold it."""
        with self.session.begin() as s:
            res = s.execute(
                update(PlatformReviewItem)
                .where(
                    PlatformReviewItem.id == item_id,
                    PlatformReviewItem.status == "taken",
                    PlatformReviewItem.taken_by == who,
                )
                .values(
                    status="decided",
                    decision=decision,
                    decided_by=who,
                    decided_at=now(),
                    notes=notes,
                )
            )
            if not res.rowcount:  # type: ignore[attr-defined]
                return None
            r = s.get(PlatformReviewItem, item_id)
            assert r is not None
            s.refresh(r)
            return _review(r)

    # -- deliveries --------------------------------------------------------------------

    def create_delivery(
        self,
        *,
        rule_id: int,
        match_event_id: int,
        action: str,
        payload: str,
        review_item_id: int | None = None,
        delivery_id: str | None = None,
    ) -> DeliveryRecord:
        with self.session.begin() as s:
            d = PlatformDelivery(
                delivery_id=delivery_id or str(uuid.uuid4()),
                rule_id=rule_id,
                match_event_id=match_event_id,
                review_item_id=review_item_id,
                action=action,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=now(),
                created_at=now(),
            )
            s.add(d)
            s.flush()
            return _delivery(d)

    def claim_due_deliveries(
        self, at: datetime, lease_until: datetime, limit: int = 20
    ) -> list[DeliveryRecord]:
        """Pending deliveries due by `at`; each is leased (next_attempt_at pushed to
        `lease_until`) so another worker does not send it at the same time."""
        out: list[DeliveryRecord] = []
        with self.session.begin() as s:
            ids = list(
                s.scalars(
                    select(PlatformDelivery.id)
                    .where(
                        PlatformDelivery.status == "pending", PlatformDelivery.next_attempt_at <= at
                    )
                    .order_by(PlatformDelivery.next_attempt_at)
                    .limit(limit)
                )
            )
            for did in ids:
                res = s.execute(
                    update(PlatformDelivery)
                    .where(
                        PlatformDelivery.id == did,
                        PlatformDelivery.status == "pending",
                        PlatformDelivery.next_attempt_at <= at,
                    )
                    .values(next_attempt_at=lease_until)
                )
                if res.rowcount:  # type: ignore[attr-defined]
                    d = s.get(PlatformDelivery, did)
                    assert d is not None
                    out.append(_delivery(d))
        return out

    def record_attempt(
        self,
        delivery_pk: int,
        *,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        delivered: bool,
        next_attempt_at: datetime | None,
    ) -> DeliveryRecord:
        """Log one attempt; mark delivered, schedule a retry, or (no next time) mark failed."""
        with self.session.begin() as s:
            d = s.get(PlatformDelivery, delivery_pk)
            assert d is not None
            d.attempts += 1
            s.add(
                PlatformDeliveryAttempt(
                    delivery_pk=d.id,
                    attempt=d.attempts,
                    at=now(),
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            if delivered:
                d.status = "delivered"
                d.delivered_at = now()
            elif next_attempt_at is None:
                d.status = "failed"
            else:
                d.next_attempt_at = next_attempt_at
            s.flush()
            return _delivery(d)

    def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        with self.session() as s:
            d = s.scalar(
                select(PlatformDelivery).where(PlatformDelivery.delivery_id == delivery_id)
            )
            if d is None:
                return None
            attempts = s.scalars(
                select(PlatformDeliveryAttempt)
                .where(PlatformDeliveryAttempt.delivery_pk == d.id)
                .order_by(PlatformDeliveryAttempt.attempt)
            ).all()
            return _delivery(d, attempts)

    def list_deliveries(
        self,
        *,
        match_event_ids: Iterable[int] | None = None,
        status: str | None = None,
        limit: int = 1000,
    ) -> list[DeliveryRecord]:
        with self.session() as s:
            q = select(PlatformDelivery).order_by(PlatformDelivery.id).limit(limit)
            if match_event_ids is not None:
                q = q.where(PlatformDelivery.match_event_id.in_(list(match_event_ids)))
            if status:
                q = q.where(PlatformDelivery.status == status)
            ds = s.scalars(q).all()
            out = []
            for d in ds:
                attempts = s.scalars(
                    select(PlatformDeliveryAttempt)
                    .where(PlatformDeliveryAttempt.delivery_pk == d.id)
                    .order_by(PlatformDeliveryAttempt.attempt)
                ).all()
                out.append(_delivery(d, attempts))
            return out
