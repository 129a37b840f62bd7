"""Trust & safety matching service: banks, HMA-compatible matching API, actions, review
queue, law-enforcement reports (`tantalio platform serve`)."""

from __future__ import annotations

from tantalio.platform.app import create_platform_app
from tantalio.platform.config import PlatformConfig
from tantalio.platform.service import PlatformService

__all__ = ["PlatformConfig", "PlatformService", "create_platform_app"]
