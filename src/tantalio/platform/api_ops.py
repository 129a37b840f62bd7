"""tantalio /v1 API, part two: action rules, review queue, deliveries, LE reports, keys."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tantalio.platform import auth, reports
from tantalio.platform.actions import DECISIONS
from tantalio.platform.api_v1 import _svc, _wrap
from tantalio.platform.service import PlatformService
from tantalio.platform.web import ApiError, requires
from tantalio.store.platform.records import ApiKeyRecord

router = APIRouter(prefix="/v1", tags=["tantalio v1"])


# -- rules, review, deliveries, reports -------------------------------------------------------


class RuleIn(BaseModel):
    name: str
    action: str
    webhook_url: str
    webhook_secret: str = Field(..., min_length=16)
    bank: str | None = None
    category: int | None = None
    max_distance: int | None = None
    review: bool = False


def _rule(r: Any, svc: PlatformService) -> dict[str, Any]:
    banks = svc.store.banks_by_id(include_deleted=True)
    return {
        "id": r.id,
        "name": r.name,
        "action": r.action,
        "webhook_url": r.webhook_url,
        "bank": banks[r.bank_id].name if r.bank_id in banks else None,
        "category": r.category,
        "max_distance": r.max_distance,
        "review": r.review,
        "enabled": r.enabled,
    }


@router.get("/rules")
def list_rules(
    request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> list[dict[str, Any]]:
    svc = _svc(request)
    return [_rule(r, svc) for r in svc.store.list_rules()]


@router.post("/rules", status_code=201)
def create_rule(
    body: RuleIn, request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> dict[str, Any]:
    svc = _svc(request)
    if not body.webhook_url.startswith(("http://", "https://")):
        raise ApiError(400, "webhook_url must be http(s)")
    bank_id = _wrap(svc.bank, body.bank).id if body.bank else None
    r = svc.store.create_rule(
        name=body.name,
        action=body.action,
        webhook_url=body.webhook_url,
        webhook_secret=body.webhook_secret,
        bank_id=bank_id,
        category=body.category,
        max_distance=body.max_distance,
        review=body.review,
    )
    return _rule(r, svc)


@router.delete("/rules/{rule_id}")
def disable_rule(
    rule_id: int, request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> dict[str, Any]:
    if not _svc(request).store.set_rule_enabled(rule_id, False):
        raise ApiError(404, "no such rule")
    return {"disabled": rule_id}


def _review(item: Any) -> dict[str, Any]:
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in ((n, getattr(item, n)) for n in item.__slots__)
    }


@router.get("/review")
def list_review(
    request: Request,
    status: str | None = "pending",
    limit: int = Query(100, le=1000),
    key: ApiKeyRecord = Depends(requires("curate")),
) -> list[dict[str, Any]]:
    return [_review(i) for i in _svc(request).store.list_review(status or None, limit)]


class TakeIn(BaseModel):
    item_id: int | None = None


@router.post("/review/take")
def take_review(
    body: TakeIn, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    item = _svc(request).store.take_review(body.item_id, key.name)
    if item is None:
        raise ApiError(409 if body.item_id else 404, "no pending review item could be taken")
    return _review(item)


class DecideIn(BaseModel):
    decision: Literal["confirm", "reject"]
    notes: str | None = None


@router.post("/review/{item_id}/decide")
def decide_review(
    item_id: int, body: DecideIn, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    assert body.decision in DECISIONS
    svc = _svc(request)
    item = svc.store.decide_review(item_id, key.name, body.decision, body.notes)
    if item is None:
        raise ApiError(409, "decide only an item you have taken and not yet decided")
    delivery = svc.actions.decide(item, svc.store.banks_by_id(include_deleted=True))
    out = _review(item)
    out["delivery_id"] = delivery.delivery_id if delivery else None
    return out


@router.get("/deliveries/{delivery_id}")
def get_delivery(
    delivery_id: str, request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> dict[str, Any]:
    d = _svc(request).store.get_delivery(delivery_id)
    if d is None:
        raise ApiError(404, "no such delivery")
    return {
        "delivery_id": d.delivery_id,
        "action": d.action,
        "status": d.status,
        "attempts": d.attempts,
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "attempt_log": [
            {
                "attempt": a.attempt,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": round(a.duration_ms, 1),
            }
            for a in d.attempt_log
        ],
    }


@router.get("/reports/{account_id}")
def get_report(
    account_id: str,
    request: Request,
    format: Literal["json", "xml"] = "json",
    key: ApiKeyRecord = Depends(requires("curate")),
) -> Response:
    rep = reports.build_report(_svc(request), account_id)
    if rep is None:
        raise ApiError(404, "no matches recorded for this account")
    if format == "xml":
        return Response(reports.to_xml(rep), media_type="application/xml")
    return Response(rep.to_json(), media_type="application/json")


# -- keys --------------------------------------------------------------------------------------


class KeyIn(BaseModel):
    name: str
    scopes: list[Literal["lookup", "curate", "admin"]]
    rate_per_s: float | None = None
    burst: int | None = None


def _key(k: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "scopes": sorted(k.scopes),
        "rate_per_s": k.rate_per_s,
        "burst": k.burst,
        "created_at": k.created_at.isoformat(),
        "revoked": k.revoked_at is not None,
    }


@router.post("/keys", status_code=201)
def create_key(
    body: KeyIn, request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> dict[str, Any]:
    svc = _svc(request)
    token, rec = _wrap(
        auth.create_key,
        svc.store,
        body.name,
        body.scopes,
        rate_per_s=body.rate_per_s or svc.config.default_rate_per_s,
        burst=body.burst or svc.config.default_burst,
        actor=f"key:{key.prefix}",
    )
    return {**_key(rec), "key": token}


@router.get("/keys")
def list_keys(
    request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> list[dict[str, Any]]:
    return [_key(k) for k in _svc(request).store.list_keys()]


@router.delete("/keys/{ident}")
def revoke_key(
    ident: str, request: Request, key: ApiKeyRecord = Depends(requires("admin"))
) -> dict[str, Any]:
    n = _svc(request).store.revoke_key(ident, actor=f"key:{key.prefix}")
    if not n:
        raise ApiError(404, "no such active key")
    return {"revoked": n}
