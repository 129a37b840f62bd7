"""`create_exchange_app`: the FastAPI app of `tantalio exchange serve` (docs/exchange-api.md).

No anonymous route: an ASGI middleware authenticates every request before routing (the
OpenAPI document, unknown paths and `/v1/status` included) and applies the agency's token
bucket; each route then checks its scope. Every refusal is audited. Error bodies are
`{"error": code, "detail": sentence}` and never echo hash values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tantalio.exchange.auth import has_scope
from tantalio.exchange.config import ExchangeConfig
from tantalio.exchange.service import Caller, ExchangeService, Refused
from tantalio.platform.web import bearer_from

log = logging.getLogger("tantalio.exchange")
router = APIRouter(prefix="/v1", tags=["exchange v1"])


def _error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "detail": detail}, status, headers=headers)


async def _refused_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    caller: Caller | None = request.scope.get("state", {}).get("caller")
    svc: ExchangeService = request.app.state.service
    await run_in_threadpool(
        svc.refuse,
        caller.key if caller else None,
        exc.code,
        exc.status,
        request.url.path,
        caller.ip if caller else None,
    )
    return _error(exc.status, exc.code, exc.detail)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's own validation (query parameters, the list body) in the contract's shape."""
    where = ""
    if isinstance(exc, RequestValidationError) and exc.errors():
        first = exc.errors()[0]
        where = " ".join(str(p) for p in first.get("loc", ())) + ": " + str(first.get("msg", ""))
    return await _refused_handler(request, Refused(400, "bad_request", f"invalid {where}".strip()))


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return _error(exc.status_code, code, str(exc.detail))


class Gate:
    """ASGI middleware: a valid key within its agency's rate for every request, a bounded
    body; refusals audited."""

    def __init__(self, app: Any, service: ExchangeService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path", "")
        ip = (scope.get("client") or (None,))[0]
        svc = self.service
        key = svc.keyring.authenticate(bearer_from(headers.get("authorization"), None))
        refusal: tuple[int, str, str, dict[str, str] | None] | None = None
        if key is None:
            refusal = (
                401,
                "unauthorized",
                "a valid agency key is required (Authorization: Bearer <key>)",
                {"WWW-Authenticate": "Bearer"},
            )
        else:
            wait = svc.keyring.allow(key)
            if wait > 0:
                retry = str(max(1, int(wait + 0.999)))
                refusal = (429, "rate_limited", "rate limit exceeded", {"Retry-After": retry})
            else:
                try:
                    size = int(headers.get("content-length", "0"))
                except ValueError:
                    size = svc.config.max_body_bytes + 1
                if size > svc.config.max_body_bytes:
                    refusal = (
                        413,
                        "body_too_large",
                        f"request body larger than {svc.config.max_body_bytes} bytes",
                        None,
                    )
        if refusal is not None:
            status, code, detail, extra = refusal
            await run_in_threadpool(svc.refuse, key, code, status, path, ip)
            await _error(status, code, detail, extra)(scope, receive, send)
            return
        assert key is not None
        scope.setdefault("state", {})["caller"] = Caller(key, ip)
        await self.app(scope, receive, send)


async def _caller(request: Request, scope: str) -> Caller:
    caller: Caller = request.scope["state"]["caller"]
    if not has_scope(caller.key, scope):
        raise Refused(403, "forbidden", f"this key lacks the {scope!r} scope")
    return caller


async def _json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(400, "bad_json", "the request body is not JSON") from None


def _reply(body: dict[str, Any]) -> Response:
    """JSON straight from `json.dumps`: a query answer holds thousands of small objects, and
    FastAPI's `jsonable_encoder` walk over them cost more than the answer's index search."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), media_type="application/json")


def _svc(request: Request) -> ExchangeService:
    return request.app.state.service  # type: ignore[no-any-return]


class ListIn(BaseModel):
    name: str = Field(max_length=128)
    description: str | None = Field(default=None, max_length=2000)
    rule: dict[str, int]


@router.get("/status", summary="The calling agency and the exchange's state (any scope)")
async def status(request: Request) -> dict[str, Any]:
    caller: Caller = request.scope["state"]["caller"]
    return _svc(request).status(caller)


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.post("/records", summary="Push records (scope push); at most 10,000 a request")
async def push(request: Request) -> Response:
    caller = await _caller(request, "push")
    return _reply(await run_in_threadpool(_svc(request).push, caller, await _json(request)))


@router.post("/records/retract", summary="Retract the agency's own records (scope push)")
async def retract(request: Request) -> dict[str, Any]:
    caller = await _caller(request, "push")
    return await run_in_threadpool(_svc(request).retract, caller, await _json(request))


@router.post("/query", summary="Batched exact, PDQ (8 orientations) and vPDQ queries (scope query)")
async def query(request: Request) -> Response:
    caller = await _caller(request, "query")
    body = await _json(request)
    orientations = body.get("orientations", True) if isinstance(body, dict) else True
    return _reply(
        await run_in_threadpool(_svc(request).query, caller, body, orientations is not False)
    )


@router.get("/changes", summary="What changed at other agencies for this agency's watch list")
async def changes(
    request: Request, since: int = Query(0, ge=0), limit: int = Query(1000, ge=1)
) -> Response:
    caller = await _caller(request, "query")
    return _reply(await run_in_threadpool(_svc(request).changes, caller, since, limit))


@router.get("/series/links", summary="Series of other agencies sharing media with this one's")
async def series_links(request: Request) -> dict[str, Any]:
    caller = await _caller(request, "query")
    return await run_in_threadpool(_svc(request).series_links, caller)


@router.post("/lists", summary="Create a list (scope admin)")
async def create_list(request: Request, body: ListIn) -> dict[str, Any]:
    caller = await _caller(request, "admin")
    rule = body.rule
    if set(rule) != {"category", "min_agencies"}:
        raise Refused(400, "bad_list", "rule must be {category, min_agencies}")
    return await run_in_threadpool(
        _svc(request).create_list,
        body.name,
        rule["category"],
        rule["min_agencies"],
        body.description,
        caller,
    )


@router.post("/lists/{name}/publish", summary="Sign and publish the list's next delta")
async def publish(request: Request, name: str) -> dict[str, Any]:
    caller = await _caller(request, "publish")
    return await run_in_threadpool(_svc(request).publish, name, caller)


@router.get("/lists/{name}/deltas", summary="Signed deltas after a sequence number")
async def list_deltas(request: Request, name: str, after: int = Query(0, ge=0)) -> dict[str, Any]:
    await _caller(request, "query")
    return await run_in_threadpool(_svc(request).list_deltas, name, after)


@router.get("/lists/{name}/key", summary="The list's public key (PEM), to pin")
async def list_key(request: Request, name: str) -> dict[str, Any]:
    await _caller(request, "query")
    return await run_in_threadpool(_svc(request).list_key, name)


def create_exchange_app(
    config: ExchangeConfig | None = None, *, service: ExchangeService | None = None
) -> FastAPI:
    """The exchange app; its indexes load when the app starts (lifespan)."""
    svc = service or ExchangeService(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not svc.ready:
            await run_in_threadpool(svc.start)
        yield
        if service is None:
            svc.close()

    app = FastAPI(
        title="tantalio exchange",
        version="1",
        description="Hash-only records across agencies: deconfliction, victim-identification "
        "status, series links and signed list deltas (docs/exchange-api.md).",
        openapi_url=None,  # served by /v1/openapi.json behind a key
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.add_exception_handler(Refused, _refused_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.include_router(router)
    app.add_middleware(Gate, service=svc)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (`tantalio exchange serve` sets the environment)."""
    import os

    from tantalio.store.exchange.db import DEFAULT_URL

    config = ExchangeConfig(
        db_url=os.environ.get("TANTALIO_EXCHANGE_DB", DEFAULT_URL),
        signing_key=os.environ.get("TANTALIO_EXCHANGE_SIGNING_KEY") or None,
    )
    return create_exchange_app(config)
