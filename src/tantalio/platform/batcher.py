"""Coalesce concurrent PDQ lookups into one index search.

Requests that reach the event loop in the same turn (under load: many) queue their hash;
the first one schedules a flush with `call_soon`, which runs after the other ready request
tasks have queued theirs. One vectorised search then serves them all. No timer, so a lone
request waits for nothing; a busy server gets batches as large as its concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tantalio.platform.matchindex import MatchIndex

Hits = list[tuple[int, int]]  # (encoded entry id, distance): the one lookup's PDQ hits

MAX_BATCH = 512


class PDQBatcher:
    def __init__(self, index: MatchIndex, radius: Callable[[], int]) -> None:
        self.index = index
        self.radius = radius
        self._pending: list[tuple[str, asyncio.Future[Hits]]] = []
        self._scheduled = False
        self.batches = 0
        self.queries = 0

    async def search(self, value: str) -> Hits:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Hits] = loop.create_future()
        self._pending.append((value, fut))
        if len(self._pending) >= MAX_BATCH:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._scheduled = False
        if not batch:
            return
        self.batches += 1
        self.queries += len(batch)
        try:
            results = self.index.pdq.search([v for v, _ in batch], self.radius())
        except Exception as exc:  # one bad batch fails its requests, not the loop
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), res in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(res)
