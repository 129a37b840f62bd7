"""Hostile request values (issue 14): ids no row can have are 404, never 500."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

HUGE = "99999999999999999999999"
PATHS = [
    f"/api/media/{HUGE}",
    f"/api/cases/{HUGE}",
    f"/api/series/{HUGE}",
    f"/api/accounts/{HUGE}",
    f"/api/cases/{HUGE}/media",
    f"/media/{HUGE}",
    f"/cases/{HUGE}",
    f"/series/{HUGE}",
    f"/api/media/{2**63 - 1}",
    f"/api/media/{2**31}",
]


async def test_out_of_range_ids_are_not_found(examiner: httpx.AsyncClient) -> None:
    for path in PATHS:
        r = await examiner.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
