"""HMA (OpenMediaMatch) compatible routes: same paths, parameters and payload shapes.

    GET  /m/raw_lookup?signal_type=pdq&signal=HEX[&include_distance=true][&banks=A,B]
         -> {"matches": [content_id, ...]}  or  [{"bank_content_id": id, "distance": "4"}]
    GET  /m/lookup?signal_type=pdq&signal=HEX  -> {"BANK": [{"bank_content_id", "distance"}]}
    GET  /m/lookup?url=URL                     -> {"pdq": {"BANK": [...]}}
    POST /m/lookup (multipart, field photo|video) -> {"pdq": {"BANK": [...]}}
         content lookups (POST, and GET with url=) match the content in its 8 orientations
         (rotations and mirror images) as each bank's rules say (on by default), or as
         `orientations=true|false` asks for this request; a video's frames are
         also matched against picture entries, a picture against videos' frames
    GET  /h/hash?url=URL / POST /h/hash (multipart) -> {"pdq": "HEX"}
    GET|POST /c/banks, GET|PUT|DELETE /c/bank/<name>
    POST /c/bank/<name>/signal {"pdq": "HEX"}   -> {"id": N, "signals": {"pdq": "HEX"}}
    POST /c/bank/<name>/content (multipart or ?url=) -> {"id": N, "signals": {...}}
    GET|DELETE /c/bank/<name>/content/<id>
    GET  /status -> "I-AM-ALIVE" (no key: load-balancer health check)

Differences (docs/platform-api.md): every route but /status needs an API key as
`Authorization: Bearer`; `/m/raw_lookup` applies each bank's own PDQ threshold.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from tantalio.platform import hashing, urlfetch
from tantalio.platform import signals as sig
from tantalio.platform.service import Invalid, Match, NotFound, PlatformService
from tantalio.platform.web import ApiError, requires
from tantalio.signals.rules import RULE_EXACT, RULE_LOCAL, RULE_PDQ_TRIMMED
from tantalio.store.platform.records import ApiKeyRecord, BankRecord

router = APIRouter(tags=["HMA compatible"])
CONTENT_TYPES = ("photo", "video")


def _svc(request: Request) -> PlatformService:
    return request.app.state.service


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, "invalid boolean parameter - prefer true/false")


def _banks_param(value: str | None) -> set[str] | None:
    return {b for b in value.split(",") if b} if value else None


def _bank_json(b: BankRecord) -> dict[str, Any]:
    return {"name": b.name, "matching_enabled_ratio": b.enabled_ratio if b.enabled else 0.0}


def _by_bank(matches: list[Match]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in matches:
        out.setdefault(m.bank.name, []).append(
            {"bank_content_id": m.entry_id, "distance": str(m.distance)}
        )
    return out


async def _lookup(
    svc: PlatformService, request: Request, signal_type: str, signal: str, banks: set[str] | None
) -> list[Match]:
    q = request.query_params
    try:
        return await svc.lookup_async(
            signal_type,
            signal,
            banks=banks,
            seed=q.get("seed"),
            bypass_coinflip=_bool(q.get("bypass_coinflip"), False),
        )
    except Invalid as exc:
        raise ApiError(400, str(exc)) from None


async def _content_lookup(
    svc: PlatformService,
    request: Request,
    key: ApiKeyRecord,
    hashes: dict[str, str],
    fp: Any,
    banks: set[str] | None,
) -> dict[str, Any]:
    """The one lookup for uploaded or fetched content, answered as HMA does: per signal
    type of the content (`pdq` for a photo; `video_md5`, `vpdq` for a video), per bank."""
    q = request.query_params
    # Unset: each bank's own rule (on by default); true/false: this request's choice.
    raw = q.get("orientations")
    orientations = None if raw is None else _bool(raw)
    matches = await run_in_threadpool(
        svc.lookup_fingerprint, fp, banks=banks, orientations=orientations
    )
    upload = getattr(request.state, "upload", None)
    if not matches and upload is not None and fp.kind == "image" and not fp.error:
        # nothing matched: the picture's local features, when some bank holds them (they
        # cost more than every hash, so only for uploads the hashes did not settle)
        matches = await run_in_threadpool(
            svc.lookup_local, upload[0], upload[1], banks=banks, orientations=orientations
        )
    if not _bool(q.get("bypass_coinflip"), False):
        coin = random.Random(q.get("seed")).random()
        matches = [m for m in matches if m.bank.enabled_ratio >= coin]
    resp: dict[str, Any] = {st: [] for st in hashes}
    # issue 13's signal types (the picture inside its frame, local features) answer under
    # their own HMA-style names, present only when they matched: HMA's shape otherwise
    video = sig.VPDQ in hashes or sig.VIDEO_MD5 in hashes
    for m in matches:
        if m.rule in (RULE_PDQ_TRIMMED, RULE_LOCAL):
            st = sig.hma_name(m.signal_type)
            resp.setdefault(st, [])
        elif m.rule == RULE_EXACT:
            st = sig.VIDEO_MD5 if video and m.signal_type == sig.MD5 else m.signal_type
        else:
            st = sig.VPDQ if video else sig.PDQ
        if st not in resp:  # an exact match reported under the content's own signal
            st = next(iter(resp), st)
        if st in resp:
            resp[st].append(m)
    if matches:
        await run_in_threadpool(
            svc.record, matches, api_key_id=key.id, file_hashes=hashing.describe(fp)
        )
    return {st: _by_bank(ms) for st, ms in resp.items()}


async def _fetch(svc: PlatformService, url: str) -> tuple[bytes, str]:
    cfg = svc.config
    if not cfg.url_fetch_enabled:
        raise ApiError(403, "URL fetching is disabled on this service")
    try:
        got = await run_in_threadpool(
            urlfetch.fetch,
            url,
            max_bytes=cfg.url_max_bytes,
            timeout_s=cfg.url_timeout_s,
            allow_private=cfg.allow_private_urls,
        )
    except urlfetch.UrlRefused as exc:
        raise ApiError(400, f"url refused: {exc}") from None
    except Exception as exc:  # network failures
        raise ApiError(400, f"could not fetch url: {type(exc).__name__}") from None
    return got.data, got.content_type


def _content_type(request: Request, header_type: str) -> str:
    arg = request.query_params.get("content_type", "")
    if not arg:
        if header_type.lower().startswith("image"):
            arg = "photo"
        elif header_type.lower().startswith("video"):
            arg = "video"
        else:
            raise ApiError(
                400,
                f"unsupported url ContentType: '{header_type}', if you know the "
                "expected type, provide it with the content_type query param",
            )
    if arg not in CONTENT_TYPES:
        raise ApiError(400, f"no such content_type: '{arg}'")
    return arg


def _select_types(request: Request, hashes: dict[str, str]) -> dict[str, str]:
    wanted = request.query_params.get("types")
    if not wanted:
        return hashes
    names = [t.strip() for t in wanted.split(",") if t.strip()]
    for n in names:
        if n not in hashes:
            raise ApiError(400, f"signal type '{n}' doesn't exist or is disabled")
    if not names:
        raise ApiError(400, "empty signal type selection")
    return {n: hashes[n] for n in names}


async def _hash_bytes(
    request: Request, data: bytes, name: str | None, *, lookup: bool = False
) -> tuple[dict[str, str], Any]:
    """The content's signals; `types=local_features` asks for the picture's local features
    in the form a bank stores (a lookup extracts its own, only when needed)."""
    wanted = {t.strip() for t in request.query_params.get("types", "").split(",")}
    local = "reference" if sig.HMA_LOCAL_FEATURES in wanted and not lookup else ""
    fp = await run_in_threadpool(hashing.fingerprint, data, name, local)
    hashes = hashing.signals_of(fp)
    # Extra signal types a caller may ask for explicitly with `types=`.
    hashes_all = {**hashing.all_signals(fp), **hashing.extra_signals(fp), **hashes}
    if request.query_params.get("types"):
        return _select_types(request, hashes_all), fp
    return hashes, fp


async def _hash_upload(request: Request, *, lookup: bool = False) -> tuple[dict[str, str], Any]:
    data, name = await _read_upload(request)
    request.state.upload = (data, name)
    return await _hash_bytes(request, data, name, lookup=lookup)


async def _read_upload(request: Request) -> tuple[bytes, str | None]:
    form = await request.form()
    files = [(k, v) for k, v in form.multi_items() if hasattr(v, "read")]
    if not files:
        raise ApiError(400, "Missing multipart/form-data file upload")
    if len(files) > 1:
        raise ApiError(400, "Only one file allowed per request")
    field, upload = files[0]
    if field not in CONTENT_TYPES:
        raise ApiError(400, f"no such content_type: '{field}'")
    data = await upload.read()  # type: ignore[union-attr]
    return data, getattr(upload, "filename", None)


# -- /status -----------------------------------------------------------------------------


@router.get("/status", response_class=PlainTextResponse)
async def status(request: Request) -> PlainTextResponse:
    if not _svc(request).ready:
        return PlainTextResponse("INDEX-NOT-LOADED", 503)
    return PlainTextResponse("I-AM-ALIVE", 200)


# -- /m: matching --------------------------------------------------------------------------


async def raw_lookup_result(svc: PlatformService, q: Mapping[str, str]) -> dict[str, Any]:
    """HMA's raw lookup, shared by the route below and the ASGI fast path (fastpath.py)."""
    signal, signal_type = q.get("signal"), q.get("signal_type")
    if signal is None:
        raise ApiError(400, "signal is required")
    if signal_type is None:
        raise ApiError(400, "signal_type is required")
    try:
        matches = await svc.lookup_async(
            signal_type, signal, banks=_banks_param(q.get("banks")), check_enabled=False
        )
    except Invalid as exc:
        raise ApiError(400, str(exc)) from None
    if _bool(q.get("include_distance")):
        return {
            "matches": [
                {"bank_content_id": m.entry_id, "distance": str(m.distance)} for m in matches
            ]
        }
    return {"matches": [m.entry_id for m in matches]}


@router.get("/m/raw_lookup")
async def raw_lookup(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    """Served by `fastpath.RawLookupFastPath` in the app; this route documents it (OpenAPI)
    and serves it when the fast path is off."""
    return JSONResponse(await raw_lookup_result(_svc(request), request.query_params))


@router.get("/m/lookup")
async def lookup_get(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    q = request.query_params
    svc = _svc(request)
    banks = _banks_param(q.get("banks"))
    if q.get("url"):
        data, header_type = await _fetch(svc, q["url"])
        _content_type(request, header_type)
        request.state.upload = (data, None)
        hashes, fp = await _hash_bytes(request, data, None, lookup=True)
        resp = await _content_lookup(svc, request, key, hashes, fp, banks)
        if q.get("signal_type"):
            return resp.get(q["signal_type"], {})
        return resp
    if not q.get("signal") or not q.get("signal_type"):
        raise ApiError(400, "Either url or both signal and signal_type are required")
    matches = await _lookup(svc, request, q["signal_type"], q["signal"], banks)
    if matches:
        # Database writes leave the event loop (it serves the lookups).
        await run_in_threadpool(
            svc.record,
            matches,
            api_key_id=key.id,
            file_hashes={q["signal_type"]: q["signal"].lower()},
        )
    return _by_bank(matches)


@router.post("/m/lookup")
async def lookup_post(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    svc = _svc(request)
    hashes, fp = await _hash_upload(request, lookup=True)
    banks = _banks_param(request.query_params.get("banks"))
    return await _content_lookup(svc, request, key, hashes, fp, banks)


@router.get("/m/index/status")
async def index_status(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    svc = _svc(request)
    built = int(svc.sync.loaded_at or -1)
    size = len(svc.index)
    status = {"present": svc.ready, "built_to": built, "size": size}
    local = await run_in_threadpool(svc.local_index)
    return {
        sig.PDQ: status,
        # a trimmed PDQ is searched in the PDQ index; local features in their own
        sig.HMA_PDQ_TRIMMED: status,
        sig.HMA_LOCAL_FEATURES: {
            "present": svc.ready,
            "built_to": built,
            "size": 0 if local is None else len(local),
        },
    }


# -- /h: hashing ---------------------------------------------------------------------------


@router.get("/h/hash")
async def hash_get(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    url = request.query_params.get("url")
    if url is None:
        raise ApiError(400, "url is required")
    data, header_type = await _fetch(_svc(request), url)
    _content_type(request, header_type)
    hashes, _ = await _hash_bytes(request, data, None)
    return hashes


@router.post("/h/hash")
async def hash_post(request: Request, key: ApiKeyRecord = Depends(requires("lookup"))) -> Any:
    hashes, _ = await _hash_upload(request)
    return hashes


# -- /c: curation --------------------------------------------------------------------------


@router.get("/c/banks")
async def banks_index(request: Request, key: ApiKeyRecord = Depends(requires("curate"))) -> Any:
    return [_bank_json(b) for b in _svc(request).list_banks()]


# HMA's signal type names this service answers, in the order it lists them.
HMA_SIGNAL_TYPES = (
    sig.PDQ,
    sig.VIDEO_MD5,
    sig.VPDQ,
    sig.MD5,
    sig.SHA1,
    sig.SHA256,
    sig.HMA_PDQ_TRIMMED,
    sig.HMA_LOCAL_FEATURES,
)


@router.get("/c/signal_type")
async def signal_types(request: Request, key: ApiKeyRecord = Depends(requires("curate"))) -> Any:
    """HMA's signal type listing: `[{"name", "enabled_ratio"}]`. `pdq_trimmed` and
    `local_features` (issue 13) are listed, enabled when the server's rules have them on
    (a trimmed PDQ follows the PDQ rules; local features `local_features`)."""
    rules = _svc(request).rules
    return [
        {
            "name": name,
            "enabled_ratio": 0.0
            if name == sig.HMA_LOCAL_FEATURES and not rules.local_features
            else 1.0,
        }
        for name in HMA_SIGNAL_TYPES
    ]


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "this endpoint expects a json object payload") from None
    if not isinstance(data, dict):
        raise ApiError(400, "this endpoint expects a json object payload")
    return data


def _ratio(data: dict[str, Any]) -> float | None:
    if "enabled_ratio" in data and data["enabled_ratio"] is not None:
        try:
            return float(data["enabled_ratio"])
        except (TypeError, ValueError):
            raise ApiError(400, f"Invalid float: '{data['enabled_ratio']}'") from None
    if "enabled" in data and data["enabled"] is not None:
        return 1.0 if _bool(str(data["enabled"])) else 0.0
    return None


@router.post("/c/banks", status_code=201)
async def bank_create(request: Request, key: ApiKeyRecord = Depends(requires("curate"))) -> Any:
    data = await _json(request)
    name = data.get("name")
    if not name:
        raise ApiError(400, "name is required")
    ratio = _ratio(data)
    try:
        b = _svc(request).create_bank(
            str(name),
            enabled_ratio=ratio,
            pdq_threshold=data.get("pdq_threshold"),
            actor=f"key:{key.prefix}",
        )
    except Invalid as exc:
        status = 403 if "already exists" in str(exc) else 400
        raise ApiError(status, "Bank already exists" if status == 403 else str(exc)) from None
    return JSONResponse(_bank_json(b), 201)


def _bank_or_404(svc: PlatformService, bank_name: str) -> BankRecord:
    try:
        return svc.bank(bank_name)
    except NotFound:
        raise ApiError(404, f"bank '{bank_name}' not found") from None


@router.get("/c/bank/{bank_name}")
async def bank_show(
    bank_name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> Any:
    return _bank_json(_bank_or_404(_svc(request), bank_name))


@router.put("/c/bank/{bank_name}")
async def bank_update(
    bank_name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> Any:
    data = await _json(request)
    ratio = _ratio(data)
    try:
        b = _svc(request).update_bank(
            bank_name, name=data.get("name"), enabled_ratio=ratio, actor=f"key:{key.prefix}"
        )
    except NotFound:
        raise ApiError(404, "Bank not found") from None
    except Invalid as exc:
        raise ApiError(400, str(exc)) from None
    return _bank_json(b)


@router.delete("/c/bank/{bank_name}")
async def bank_delete(
    bank_name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> Any:
    await run_in_threadpool(_svc(request).delete_bank, bank_name, actor=f"key:{key.prefix}")
    return {"message": "Done"}


def _metadata(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError(400, "metadata should be a json object") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "metadata should be a json object")
    unexpected = set(raw) - {"content_id", "content_uri", "json"}
    if unexpected:
        raise ApiError(400, f"metadata contains unexpected keys: {' ,'.join(sorted(unexpected))}")
    return raw


@router.post("/c/bank/{bank_name}/signal")
async def bank_add_signal(
    bank_name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> Any:
    svc = _svc(request)
    _bank_or_404(svc, bank_name)
    data = await _json(request)
    try:
        entry_id, clean = await run_in_threadpool(
            lambda: svc.add_signals(bank_name, data, source_list="api")
        )
    except Invalid as exc:
        raise ApiError(400, str(exc)) from None
    return {"id": entry_id, "signals": clean}


@router.post("/c/bank/{bank_name}/content")
async def bank_add_content(
    bank_name: str, request: Request, key: ApiKeyRecord = Depends(requires("curate"))
) -> Any:
    svc = _svc(request)
    _bank_or_404(svc, bank_name)
    meta = _metadata(request.query_params.get("metadata"))
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await _json(request)  # HMA: {"metadata": {...}} alongside ?url=
        if body.get("metadata") is not None:
            meta = _metadata(body["metadata"])
    url = request.query_params.get("url")
    if url:
        data, header_type = await _fetch(svc, url)
        _content_type(request, header_type)
        name = None
    elif request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        if form.get("metadata") is not None:
            meta = _metadata(form.get("metadata"))
        files = [(k, v) for k, v in form.multi_items() if hasattr(v, "read")]
        if len(files) != 1:
            raise ApiError(
                400,
                "Only one file allowed per request"
                if files
                else "Neither `url` nor multipart file upload was received",
            )
        field, upload = files[0]
        if field not in CONTENT_TYPES:
            raise ApiError(400, f"no such content_type: '{field}'")
        data = await upload.read()  # type: ignore[union-attr]
        name = getattr(upload, "filename", None)
    else:
        raise ApiError(400, "Neither `url` nor multipart file upload was received")
    fp = await run_in_threadpool(hashing.fingerprint, data, name, "reference")
    signals = hashing.signals_of(fp)
    if not signals:
        raise ApiError(400, "No signals given")
    entry_id = await run_in_threadpool(
        lambda: svc.add_fingerprint(bank_name, fp, meta=meta, source_list="api")
    )
    return {"id": entry_id, "signals": signals}


def _content_json(svc: PlatformService, bank_name: str, content_id: int) -> dict[str, Any]:
    entries = svc.entries([content_id])
    e = entries.get(content_id)
    if e is None or e.bank_name != bank_name or e.removed_at is not None:
        raise ApiError(404, f"content {content_id} not found in bank '{bank_name}'")
    bank = svc.bank(bank_name)
    return {
        "id": e.id,
        "disable_until_ts": 1,
        "original_media_uri": None,
        "bank": _bank_json(bank),
        "signals": e.signals(),
        "metadata": e.meta,
    }


@router.get("/c/bank/{bank_name}/content/{content_id}")
async def bank_content_show(
    bank_name: str,
    content_id: int,
    request: Request,
    key: ApiKeyRecord = Depends(requires("curate")),
) -> Any:
    return _content_json(_svc(request), bank_name, content_id)


@router.delete("/c/bank/{bank_name}/content/{content_id}")
async def bank_content_delete(
    bank_name: str,
    content_id: int,
    request: Request,
    key: ApiKeyRecord = Depends(requires("curate")),
) -> Any:
    try:
        n = await run_in_threadpool(_svc(request).remove_entries, bank_name, [content_id])
    except NotFound:
        raise ApiError(404, f"bank '{bank_name}' not found") from None
    return {"deleted": n}
