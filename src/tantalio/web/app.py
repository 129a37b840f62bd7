"""The examiner web application: `create_app(...)` builds the FastAPI app over one workspace.

Pages are rendered on the server with Jinja2 and a little vanilla JavaScript; every page
action has a JSON route under `/api/` (OpenAPI document at `/api/openapi.json`, for logged-in
users only: nothing but the login page and static assets is served anonymously).
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tantalio.store.web_queries import refresh_planner_statistics
from tantalio.web.jobs import IngestJobs
from tantalio.web.ratelimit import RateLimiter
from tantalio.web.security import (
    LoginRequired,
    PasswordChangeRequired,
    Principal,
    require,
    require_case_access,
)
from tantalio.web.templating import STATIC_DIR, render

if TYPE_CHECKING:
    from tantalio.store.workspace import Workspace

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(slots=True)
class WebSettings:
    """Knobs of the web app; defaults suit a laptop and a small lab server alike.

    `cache_dir` holds derived images (blurred variants, contact sheets); by default
    `WORKSPACE/thumbs/web`, beside the thumbnails ingest made.
    """

    cache_dir: Path | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    login_failures_per_user: int = 5  # per 15 minutes
    login_attempts_per_ip: int = 30  # per 15 minutes
    queries_per_minute: int = 20  # query by example, per user
    page_size: int = 120
    reveal_seconds: int = 120  # how long a reveal link stays valid
    # Folders the browser may ingest from (`tantalio serve --evidence-root DIR`); none: the
    # web ingest form is off (issue 14: an examiner ingested /etc).
    evidence_roots: list[Path] = field(default_factory=list)


def create_app(workspace: Workspace, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    if settings.cache_dir is None:
        base = workspace.thumbs_dir or Path(tempfile.mkdtemp(prefix="tantalio-web-"))
        settings.cache_dir = base / "web"
    app = FastAPI(
        title="tantalio",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, behind login
    )
    app.state.workspace = workspace
    app.state.session_factory = workspace.session
    app.state.settings = settings
    app.state.login_user_limiter = RateLimiter(settings.login_failures_per_user, 15 * 60)
    app.state.login_ip_limiter = RateLimiter(settings.login_attempts_per_ip, 15 * 60)
    app.state.query_limiter = RateLimiter(settings.queries_per_minute, 60)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    app.state.ingest_jobs = IngestJobs(workspace)
    app.state.camera_cache = {}  # case id -> (monotonic time, camera names)
    with workspace.session() as db:
        refresh_planner_statistics(db)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "change your one-time password first"}, status_code=403)
        return RedirectResponse("/settings/password", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if _is_api(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=headers
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=422)
        text = "; ".join(f"{'.'.join(map(str, d['loc'] or ()))}: {d['msg']}" for d in detail)
        return render(request, "error.html", {"status": 422, "detail": text}, status_code=422)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(principal: Principal = Depends(require())) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    from tantalio.web.routers import ROUTERS

    for router in ROUTERS:
        # Every route checks case membership (security.require_case_access), so a new route
        # cannot forget it; routes with nothing case-scoped pass through.
        app.include_router(
            router, dependencies=[Depends(_ids_in_range), Depends(require_case_access)]
        )
    return app


_MAX_ID = 2**31 - 1  # ids are INTEGER: int4 on PostgreSQL (SQLite never gets that far)


def _ids_in_range(request: Request) -> None:
    """A numeric id in the path that no row can have (`/api/media/99999999999999999999999`)
    is a missing resource, 404; without this the database driver's OverflowError makes a 500."""
    for name, value in request.path_params.items():
        if (
            name.endswith("_id")
            and isinstance(value, str)
            and value.isdigit()
            and int(value) > _MAX_ID
        ):
            raise StarletteHTTPException(404, f"no {name.removesuffix('_id')} {value}")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _version() -> str:
    from tantalio import __version__

    return __version__
