"""`create_platform_app`: the FastAPI app of `tantalio platform serve`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from tantalio.platform import api_ops, api_v1, docs_page, hma
from tantalio.platform.auth import KeyRing
from tantalio.platform.config import PlatformConfig
from tantalio.platform.fastpath import RawLookupFastPath
from tantalio.platform.service import PlatformService
from tantalio.platform.web import ApiError, LimitAndLog, api_error_handler, requires

RULES_ENV = "TANTALIO_PLATFORM_RULES"  # JSON match rules, set by `tantalio platform serve`


class _BoundFastPath(RawLookupFastPath):
    def __init__(self, app: Any, service: PlatformService, keyring: KeyRing) -> None:
        super().__init__(app)
        self.bind(service, keyring)


def create_platform_app(
    config: PlatformConfig | None = None,
    *,
    service: PlatformService | None = None,
    trusted_keys: Iterable[Any] = (),
    background: bool = True,
) -> FastAPI:
    """The service app. Its index loads when the app starts (lifespan); pass `service` to
    share one already started (tests, the benchmark's in-process runs)."""
    config = config or (service.config if service else PlatformConfig())
    svc = service or PlatformService(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not svc.ready:
            svc.start(background=background)
        yield
        if service is None:
            svc.close()

    app = FastAPI(
        title="tantalio platform matching service",
        version="1",
        description="HMA-compatible hash matching with banks, actions, review and LE reports.",
        openapi_url=None,  # served below, behind a key: only /status is open (docs)
        docs_url=None,  # served by docs_page, from bundled assets (no CDN), behind a key
        redoc_url=None,
        lifespan=lifespan,
    )

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi(_key: Any = Depends(requires("lookup"))) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.state.service = svc
    app.state.keyring = KeyRing(svc.store, config.key_cache_ttl_s)
    app.state.trusted_keys = list(trusted_keys)
    app.add_exception_handler(ApiError, api_error_handler)
    app.include_router(hma.router)
    app.include_router(api_v1.router)
    app.include_router(api_ops.router)
    docs_page.install(app, docs_url="/v1/docs", guard=requires("lookup"))
    keyring = app.state.keyring
    # Added first, so it sits inside LimitAndLog: limits and access log apply to it too.
    app.add_middleware(_BoundFastPath, service=svc, keyring=keyring)
    app.add_middleware(
        LimitAndLog,
        max_body=config.max_body_bytes,
        large_body_paths=("/import",),
        max_large=config.max_import_bytes,
    )
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers): settings from the environment
    that `tantalio platform serve` sets (TANTALIO_PLATFORM_DB, TANTALIO_TRUSTED_KEYS)."""
    import json
    import os

    from tantalio.signals import MatchRules
    from tantalio.store.platform.db import DEFAULT_URL

    config = PlatformConfig(db_url=os.environ.get("TANTALIO_PLATFORM_DB", DEFAULT_URL))
    if os.environ.get(RULES_ENV):
        config.rules = MatchRules.from_mapping(json.loads(os.environ[RULES_ENV]))
    config.index_dir = os.environ.get("TANTALIO_PLATFORM_INDEX_DIR") or None
    if os.environ.get("TANTALIO_PLATFORM_MAX_BODY"):
        config.max_body_bytes = int(os.environ["TANTALIO_PLATFORM_MAX_BODY"])
    keys = [p for p in os.environ.get("TANTALIO_TRUSTED_KEYS", "").split(os.pathsep) if p]
    return create_platform_app(config, trusted_keys=keys)
