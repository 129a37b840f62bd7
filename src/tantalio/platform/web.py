"""Shared web plumbing: API errors, the key/scope/rate-limit dependency, ASGI middleware.

Errors are JSON `{"message": ..., "detail": ...}`: HMA clients read `message`, FastAPI-style
clients `detail`. The access log (logger `tantalio.platform.access`, on stderr under
`tantalio platform serve`) carries method, route template, status, duration, and the key's
id and visible prefix — never the path as sent nor its query string, which hold hash values
(HMA's GET routes), bank names, content and account ids.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tantalio.platform import accesslog
from tantalio.platform.auth import KeyRing, has_scope
from tantalio.store.platform.records import ApiKeyRecord

access_log = logging.getLogger(accesslog.ACCESS_LOGGER)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        {"message": exc.message, "detail": exc.message}, exc.status, headers=exc.headers
    )


def bearer_from(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    return x_api_key


def bearer(request: Request) -> str | None:
    return bearer_from(request.headers.get("authorization"), request.headers.get("x-api-key"))


def authorize(ring: KeyRing, token: str | None, scope: str, state: dict[str, Any]) -> ApiKeyRecord:
    """The key for `token` if it has `scope` and is within its rate limit; else ApiError.
    Records the key's visible prefix in `state` for the access log."""
    key = ring.authenticate(token)
    if key is None:
        raise ApiError(
            401,
            "a valid API key is required (Authorization: Bearer <key>)",
            {"WWW-Authenticate": "Bearer"},
        )
    state["key_prefix"] = key.prefix
    state["key_id"] = key.id
    if not has_scope(key, scope):
        raise ApiError(403, f"this key lacks the {scope!r} scope")
    wait = ring.allow(key)
    if wait > 0:
        raise ApiError(429, "rate limit exceeded", {"Retry-After": str(max(1, int(wait + 0.999)))})
    return key


def requires(scope: str) -> Callable[[Request], Awaitable[ApiKeyRecord]]:
    """A dependency: a valid, unrevoked key with `scope`, within its rate limit."""

    async def dep(request: Request) -> ApiKeyRecord:
        state = request.scope.setdefault("state", {})
        return authorize(request.app.state.keyring, bearer(request), scope, state)

    return dep


class LimitAndLog:
    """ASGI middleware: refuse bodies over the limit (413) and write query-free access logs."""

    def __init__(
        self, app: Any, max_body: int, large_body_paths: tuple[str, ...], max_large: int
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.large_body_paths = large_body_paths
        self.max_large = max_large

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_large if path.endswith(self.large_body_paths) else self.max_body
        t0 = time.perf_counter()
        status = {"code": 0}
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send, limit)
                    self._log(scope, 413, t0)
                    return
        seen = {"n": 0}

        async def limited_receive() -> Any:
            message = await receive()
            if message.get("type") == "http.request":
                seen["n"] += len(message.get("body", b""))
                if seen["n"] > limit:
                    raise _TooLarge(limit)
            return message

        async def logged_send(message: Any) -> None:
            if message.get("type") == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, logged_send)
        except _TooLarge:
            if status["code"] == 0:
                await self._reject(send, limit)
                status["code"] = 413
        self._log(scope, status["code"], t0)

    @staticmethod
    async def _reject(send: Any, limit: int) -> None:
        text = f"request body larger than {limit} bytes"
        body = json.dumps({"message": text, "detail": text}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log(scope: dict[str, Any], code: int, t0: float) -> None:
        buffered = accesslog.sink(access_log)
        if buffered is not None:  # `platform serve`: no LogRecord per request
            state = scope.get("state") or {}
            buffered.note(
                scope.get("method", "-"),
                route_of(scope),
                code,
                (time.perf_counter() - t0) * 1000,
                state.get("key_id", "-"),
                state.get("key_prefix", "-"),
            )
        elif access_log.isEnabledFor(logging.INFO):
            state = scope.get("state") or {}
            access_log.info(
                "%s %s %d %.1fms key_id=%s key=%s",
                scope.get("method"),
                route_of(scope),
                code,
                (time.perf_counter() - t0) * 1000,
                state.get("key_id", "-"),
                state.get("key_prefix", "-"),
            )


def route_of(scope: dict[str, Any]) -> str:
    """The template of the route that served the request (`/v1/banks/{name}`), set by the
    router (or by a middleware that answers itself, in `state["route"]`); "-" when nothing
    matched (a 404: the path as sent is not logged, it may carry a value)."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    return str((scope.get("state") or {}).get("route", "-"))


def logging_config(level: str = "info", access: bool = True) -> dict[str, Any]:
    """uvicorn's logging configuration plus the access log on stderr (uvicorn's own access
    log is off: it writes the path with its query string), written by
    `accesslog.BufferedAccessHandler` (batched, off the request path)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["tantalio_access"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"
    }
    config["handlers"]["tantalio_access"] = {
        "formatter": "tantalio_access",
        "class": "tantalio.platform.accesslog.BufferedAccessHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"][access_log.name] = {
        "handlers": ["tantalio_access"],
        "level": "INFO" if access else "WARNING",
        "propagate": False,
    }
    config["loggers"].setdefault("uvicorn", {})["level"] = level.upper()
    return config


class _TooLarge(ApiError):
    """Raised from `receive` when a streamed body passes the limit: as an ApiError the app
    answers 413 itself; if it escapes, the middleware answers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")
