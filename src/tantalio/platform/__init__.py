"""Trust & safety matching service: banks, HMA-compatible matching API, actions, review
queue, law-enforcement reports (`tantalio platform serve`).

The exports load on first use (PEP 562): `platform serve`'s logging configuration imports
`tantalio.platform.accesslog` in each uvicorn worker before the worker answers its
supervisor's health check, and must not pull in the whole service (numpy, SQLAlchemy,
FastAPI) there: under load that took longer than the check waits, and the worker was
killed as hung.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tantalio.platform.app import create_platform_app
    from tantalio.platform.config import PlatformConfig
    from tantalio.platform.service import PlatformService

__all__ = ["PlatformConfig", "PlatformService", "create_platform_app"]


def __getattr__(name: str) -> Any:
    if name == "create_platform_app":
        from tantalio.platform.app import create_platform_app

        return create_platform_app
    if name == "PlatformConfig":
        from tantalio.platform.config import PlatformConfig

        return PlatformConfig
    if name == "PlatformService":
        from tantalio.platform.service import PlatformService

        return PlatformService
    raise AttributeError(f"module 'tantalio.platform' has no attribute {name!r}")
