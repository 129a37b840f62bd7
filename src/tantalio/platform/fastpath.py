"""A lean ASGI handler for the hottest route, `GET /m/raw_lookup`.

Platforms call raw lookup for every upload; behind FastAPI each call paid for routing,
exception middleware and dependency resolution more than for the index search itself. This
handler does the same work (key, scope and rate limit through `web.authorize`, the same
`hma.raw_lookup_result`, the same error bodies) directly on the ASGI scope. Everything else
goes to the app. The FastAPI route stays for OpenAPI and as the fallback.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from tantalio.platform.hma import raw_lookup_result
from tantalio.platform.web import ApiError, authorize, bearer_from

PATH = "/m/raw_lookup"


class RawLookupFastPath:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.service: Any = None
        self.keyring: Any = None

    def bind(self, service: Any, keyring: Any) -> None:
        self.service, self.keyring = service, keyring

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "GET"
            or self.service is None
        ):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["route"] = PATH  # for the access log
        auth = xkey = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"x-api-key":
                xkey = value.decode("latin-1")
        headers: dict[str, str] | None = None
        try:
            authorize(
                self.keyring, bearer_from(auth, xkey), "lookup", scope.setdefault("state", {})
            )
            params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            status, body = 200, await raw_lookup_result(self.service, params)
        except ApiError as exc:
            status, headers = exc.status, exc.headers
            body = {"message": exc.message, "detail": exc.message}
        raw = json.dumps(body, separators=(",", ":")).encode()
        out = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        for k, v in (headers or {}).items():
            out.append((k.lower().encode(), v.encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": raw})
