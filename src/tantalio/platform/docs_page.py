"""The OpenAPI docs page (Swagger UI) served from assets bundled in `platform/static/`, so it
works offline and tells no CDN who reads the docs (issue 16).

The assets come from the `swagger-ui-dist` npm package, pinned in `web-assets/package.json`
and copied by `npm run build` there (the app never needs npm). The page sets no validator
URL (Swagger UI would otherwise fetch a badge from validator.swagger.io) and a bundled
favicon (FastAPI's default is on fastapi.tiangolo.com).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


class _Assets(StaticFiles):
    """The bundled files; names its route for the access log (a mount sets none)."""

    def __init__(self, route: str) -> None:
        super().__init__(directory=STATIC)
        self.route = route

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("state", {})["route"] = self.route
        await super().__call__(scope, receive, send)


def docs_html(app: FastAPI, assets: str) -> HTMLResponse:
    # The description is embedded: the page's own fetch of it would carry no key.
    return get_swagger_ui_html(
        openapi_url="",
        title=f"{app.title} - API docs",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/swagger-favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "spec": app.openapi()},
    )


def install(app: FastAPI, docs_url: str, guard: Any = None) -> None:
    """Serve the page at `docs_url` (behind `guard`, a key dependency) and its assets
    (public files of Swagger UI itself, nothing of ours) under `docs_url + "/assets"`."""
    assets = f"{docs_url}/assets"
    app.mount(assets, _Assets(f"{assets}/{{file}}"), name="docs-assets")
    dependencies = [Depends(guard)] if guard is not None else []

    @app.get(docs_url, include_in_schema=False, dependencies=dependencies)
    def docs() -> HTMLResponse:
        return docs_html(app, assets)
