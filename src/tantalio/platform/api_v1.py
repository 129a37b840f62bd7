"""tantalio's own API under /v1: banks, entries, imports, matching with upload context,
rules, review queue, deliveries, LE reports, keys. Described by /v1/openapi.json."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from tantalio.platform import hashing, imports
from tantalio.platform.service import Invalid, Match, NotFound, PlatformService
from tantalio.platform.web import ApiError, requires
from tantalio.store.platform.records import ApiKeyRecord, BankRecord, EntryRecord, NewEntry

router = APIRouter(prefix="/v1", tags=["tantalio v1"])


def _svc(request: Request) -> PlatformService:
    return request.app.state.service


def _bank(svc: PlatformService, b: BankRecord, size: int | None = None) -> dict[str, Any]:
    out = {
        "name": b.name,
        "enabled": b.enabled,
        "enabled_ratio": b.enabled_ratio,
        "pdq_threshold": b.pdq_threshold,
        "description": b.description,
        "created_at": b.created_at.isoformat(),
        # What matches in this bank follow (the server's, with the bank's own over them),
        # and which keys the bank sets itself.
        "match_rules": svc.bank_rules(b).to_dict(),
        "own_match_rules": sorted(b.match_rules or {}),
    }
    if size is not None:
        out["size"] = size
    return out


def _entry(e: EntryRecord) -> dict[str, Any]:
    return {
        "id": e.id,
        "bank": e.bank_name,
        "signals": e.signals(),
        "vpdq_frames": len(e.vpdq or []),
        "category": e.category,
        "provenance": _provenance(e),
        "meta": e.meta,
    }


def _provenance(e: EntryRecord | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "source_list": e.source_list,
        "original_id": e.original_id,
        "source_category": e.source_category,
        "added_at": e.added_at.isoformat(),
        "source_added_at": e.source_added_at.isoformat() if e.source_added_at else None,
    }


def _matches(svc: PlatformService, matches: list[Match]) -> list[dict[str, Any]]:
    entries = svc.entries(m.entry_id for m in matches)
    out = []
    for m in matches:
        e = entries.get(m.entry_id)
        out.append(
            {
                "bank": m.bank.name,
                "entry_id": m.entry_id,
                "signal_type": m.signal_type,
                "distance": m.distance,
                "rule": m.rule,
                "orientation": m.orientation,
                **({"transform": m.transform} if m.transform is not None else {}),
                **(
                    {"query_share": m.query_share, "index_share": m.index_share}
                    if m.query_share is not None
                    else {}
                ),
                "category": e.category if e else None,
                "provenance": _provenance(e),
            }
        )
    return out


def _wrap(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    except (Invalid, ValueError) as exc:
        raise ApiError(400, str(exc)) from None


@router.get("/status")
def status(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> dict[str, Any]:
    """Index state of this serving process (HMA's /m/index/status carries less)."""
    svc = _svc(request)
    return {
        "ready": svc.ready,
        "entries": len(svc.index),
        "index_memory_bytes": svc.index.memory_bytes(),
        "load_seconds": round(svc.sync.load_seconds, 3),
        "last_change_seq": svc.sync.last_seq,
    }


# -- banks ---------------------------------------------------------------------------------


class BankIn(BaseModel):
    name: str
    enabled: bool = True
    pdq_threshold: int | None = Field(
        None, description="PDQ distance threshold (default: the server's match rules')"
    )
    description: str | None = None
    match_rules: dict[str, Any] | None = Field(
        None,
        description="the bank's own match rules (min_quality, orientations, "
        "vpdq_frame_distance, vpdq_query_share, vpdq_index_share, frames_vs_images; a share "
        "of null turns that side off); unset keys follow the server's",
    )


class BankPatch(BaseModel):
    name: str | None = None
    enabled: bool | None = None
    pdq_threshold: int | None = None
    description: str | None = None
    match_rules: dict[str, Any] | None = Field(
        None, description="keys to set in the bank's own match rules (merged)"
    )


@router.get("/banks")
def list_banks(
    request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> list[dict[str, Any]]:
    svc = _svc(request)
    sizes = svc.store.bank_sizes()
    return [_bank(svc, b, sizes.get(b.id, 0)) for b in svc.list_banks()]


@router.post("/banks", status_code=201)
def create_bank(
    body: BankIn, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    svc = _svc(request)
    b = _wrap(
        svc.create_bank,
        body.name,
        enabled=body.enabled,
        pdq_threshold=body.pdq_threshold,
        description=body.description,
        match_rules=body.match_rules,
        actor=f"key:{key.prefix}",
    )
    return _bank(svc, b, 0)


@router.get("/banks/{name}")
def get_bank(
    name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    svc = _svc(request)
    b = _wrap(svc.bank, name)
    return _bank(svc, b, svc.store.bank_sizes().get(b.id, 0))


@router.patch("/banks/{name}")
def patch_bank(
    name: str, body: BankPatch, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    svc = _svc(request)
    return _bank(svc, _wrap(svc.update_bank, name, actor=f"key:{key.prefix}", **body.model_dump()))


@router.delete("/banks/{name}")
def delete_bank(
    name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    if not _svc(request).delete_bank(name, actor=f"key:{key.prefix}"):
        raise ApiError(404, f"bank {name!r} not found")
    return {"deleted": name}


class EntryIn(BaseModel):
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    vpdq: list[str] | None = None
    category: int | None = Field(None, ge=0, le=4)
    source_list: str | None = None
    original_id: str | None = None
    meta: dict[str, Any] | None = None


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(..., max_length=100_000)


@router.post("/banks/{name}/entries", status_code=201)
def add_entries(
    name: str, body: EntriesIn, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    from tantalio.platform import signals as sig

    svc = _svc(request)
    new = []
    for i, e in enumerate(body.entries):
        values = {
            k: v
            for k, v in (("md5", e.md5), ("sha1", e.sha1), ("sha256", e.sha256), ("pdq", e.pdq))
            if v
        }
        if not values and not e.vpdq:
            raise ApiError(400, f"entries[{i}]: no hash given")
        try:
            clean = {k: sig.normalize(k, v) for k, v in values.items()}
            gate = svc.rules_of(name).min_quality
            frames = svc._vpdq_frames(";".join(e.vpdq), gate) if e.vpdq else None
        except sig.SignalError as exc:
            raise ApiError(400, f"entries[{i}]: {exc}") from None
        if not values and not frames:
            raise ApiError(400, f"entries[{i}]: no vpdq frame passes the quality gate")
        new.append(
            NewEntry(
                md5=clean.get("md5"),
                sha1=clean.get("sha1"),
                sha256=clean.get("sha256"),
                pdq=clean.get("pdq"),
                vpdq=frames,
                category=e.category,
                source_list=e.source_list or "api",
                original_id=e.original_id,
                meta=e.meta,
            )
        )
    ids = _wrap(svc.add_entries, name, new)
    return {"ids": ids}


@router.get("/banks/{name}/entries")
def list_entries(
    name: str,
    request: Request,
    after_id: int = 0,
    limit: int = Query(100, le=1000),
    key: ApiKeyRecord = Depends(requires("curate")),
) -> dict[str, Any]:
    svc = _svc(request)
    b = _wrap(svc.bank, name)
    return {
        "entries": [_entry(e) for e in svc.store.list_entries(b.id, limit=limit, after_id=after_id)]
    }


@router.delete("/banks/{name}/entries/{entry_id}")
def delete_entry(
    name: str, entry_id: int, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> dict[str, Any]:
    return {"deleted": _wrap(_svc(request).remove_entries, name, [entry_id])}


@router.post("/banks/{name}/import")
async def import_list(
    name: str,
    request: Request,
    format: str | None = None,
    allow_unsigned: bool = False,
    source: str = "upload",
    key: ApiKeyRecord = Depends(requires("curate")),
) -> dict[str, Any]:
    """Body: the list file's bytes. Signed lists are checked against the service's
    trusted keys (`--trusted-key`); unsigned ones need `allow_unsigned=true`."""
    svc = _svc(request)
    data = await request.body()
    keys = request.app.state.trusted_keys
    try:
        res = await run_in_threadpool(
            imports.import_bytes,
            svc,
            name,
            data,
            source=source,
            format=format,
            trusted_keys=keys,
            allow_unsigned=allow_unsigned,
        )
    except NotFound as exc:
        raise ApiError(404, str(exc)) from None
    except imports.ImportRefused as exc:
        raise ApiError(422, str(exc)) from None
    return {"bank": res.bank, "added": res.added, "warnings": res.warnings[:1000]}


# -- hashing and matching --------------------------------------------------------------------


@router.post("/hash")
async def hash_upload(
    file: UploadFile = File(...), key: ApiKeyRecord = Depends(requires("lookup"))
) -> dict[str, Any]:
    data = await file.read()
    fp = await run_in_threadpool(hashing.fingerprint, data, file.filename)
    out = fp.to_json_dict()
    out.pop("path", None)
    return out


class UploadContext(BaseModel):
    time: str | None = Field(None, description="ISO 8601 time of the upload")
    ip: str | None = None
    port: int | None = None


class MatchIn(BaseModel):
    hashes: dict[str, str] = Field(
        ..., description="signal type -> value: pdq, md5, sha1, sha256, vpdq"
    )
    pdq_orientations: list[str] | None = None
    content_ref: str | None = None
    account: dict[str, Any] | None = Field(
        None, description="reported account: id, username, email, ..."
    )
    upload: UploadContext | None = None
    banks: list[str] | None = None


def _record(
    svc: PlatformService,
    key: ApiKeyRecord,
    matches: list[Match],
    content_ref: str | None,
    account: dict[str, Any] | None,
    upload: dict[str, Any] | None,
    file_hashes: dict[str, Any],
) -> list[int]:
    events = svc.record(
        matches,
        api_key_id=key.id,
        content_ref=content_ref,
        account=account,
        upload=upload,
        file_hashes=file_hashes,
    )
    return [e.id for e in events]


@router.post("/match")
def match(
    body: MatchIn, request: Request, key: ApiKeyRecord = Depends(requires("lookup"))
) -> dict[str, Any]:
    svc = _svc(request)
    banks = set(body.banks) if body.banks else None
    found: dict[int, Match] = {}
    for st, value in body.hashes.items():
        variants = [value]
        if st == "pdq" and body.pdq_orientations:
            variants += body.pdq_orientations
        if st == "pdq":  # the hash and its orientations: one index search
            per_variant = _wrap(svc.lookup_pdq_many, variants, banks=banks)
        else:
            per_variant = [_wrap(svc.lookup, st, v, banks=banks) for v in variants]
        for k, hits in enumerate(per_variant):
            for m in hits:
                if k and not svc.rules_by_id(m.bank.id).orientations:
                    continue  # an orientation variant, in a bank that matches as-is only
                cur = found.get(m.entry_id)
                if cur is None or m.distance < cur.distance:
                    found[m.entry_id] = m
    matches = sorted(found.values(), key=lambda m: (m.distance, m.entry_id))
    events = _record(
        svc,
        key,
        matches,
        body.content_ref,
        body.account,
        body.upload.model_dump() if body.upload else None,
        {k: v.lower() for k, v in body.hashes.items()},
    )
    return {"matches": _matches(svc, matches), "events": events}


@router.post("/match/upload")
async def match_upload(
    request: Request,
    file: UploadFile = File(...),
    content_ref: str | None = Form(None),
    account: str | None = Form(None, description="JSON object"),
    upload: str | None = Form(None),
    orientations: bool | None = Form(
        None,
        description="also match the upload rotated and flipped (8 orientations); "
        "unset: as each bank's match rules say (on by default)",
    ),
    key: ApiKeyRecord = Depends(requires("lookup")),
) -> dict[str, Any]:
    svc = _svc(request)
    try:
        acc = json.loads(account) if account else None
        up = json.loads(upload) if upload else None
    except json.JSONDecodeError:
        raise ApiError(400, "account and upload must be JSON objects") from None
    data = await file.read()
    fp = await run_in_threadpool(hashing.fingerprint, data, file.filename)
    matches = await run_in_threadpool(svc.lookup_fingerprint, fp, orientations=orientations)
    if not matches and fp.kind == "image" and not fp.error:
        # local features only for what the hashes did not settle, while a bank holds them
        matches = await run_in_threadpool(
            svc.lookup_local, data, file.filename, orientations=orientations
        )
    events = await run_in_threadpool(
        _record, svc, key, matches, content_ref or file.filename, acc, up, hashing.describe(fp)
    )
    low = bool(fp.pdq) and svc.pdq_quality_too_low(fp.pdq_quality or 0)
    return {
        "matches": _matches(svc, matches),
        "events": events,
        "hashes": hashing.describe(fp),
        "pdq_quality_too_low": low,
    }
