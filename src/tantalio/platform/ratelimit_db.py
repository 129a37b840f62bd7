"""Per-key token buckets in the platform database, for several hosts serving one database.

`SharedBuckets` (ratelimit.py) holds a key to its rate on one host; behind a load balancer
each host would grant the full rate again, so N hosts make the lookup API an N times
cheaper match oracle. `DatabaseBuckets` keeps each key's bucket in `platform_rate_buckets`
and takes a token with one atomic statement (INSERT ... ON CONFLICT DO UPDATE ...
RETURNING): the row lock serialises concurrent requests for one key across every host, and
the refill is computed from the database server's clock, the one clock all hosts share
(monotonic clocks of different machines are not comparable). It costs one round trip per
request, so it is opt-in: `tantalio platform serve --rate-limits database`.

Works on PostgreSQL (the multi-host case) and on SQLite (3.35+, one host; tests).
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from tantalio.store.platform.db import make_engine

# The database clock in seconds since the epoch. PostgreSQL: the transaction's start (each
# request is its own autocommitted statement), stable within the statement; SQLite: 'now' is
# fixed for one statement, to the millisecond.
_NOW = {
    "postgresql": "extract(epoch from now())",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
_LEAST = {"postgresql": "least", "sqlite": "min"}
_GREATEST = {"postgresql": "greatest", "sqlite": "max"}

_UPSERT = """
INSERT INTO platform_rate_buckets (key_id, tokens, stamp, granted)
VALUES (:key_id, :burst - 1.0, {now}, true)
ON CONFLICT (key_id) DO UPDATE SET
    tokens = CASE WHEN {refilled} >= 1.0 THEN {refilled} - 1.0 ELSE {refilled} END,
    granted = {refilled} >= 1.0,
    stamp = {greatest}(platform_rate_buckets.stamp, {now})
RETURNING tokens, granted
"""


def _statement(dialect: str) -> str:
    now = _NOW[dialect]
    least, greatest = _LEAST[dialect], _GREATEST[dialect]
    elapsed = f"{greatest}(0.0, {now} - platform_rate_buckets.stamp)"
    refilled = f"{least}(:burst * 1.0, platform_rate_buckets.tokens + {elapsed} * :rate)"
    return _UPSERT.format(now=now, refilled=refilled, greatest=greatest)


class DatabaseBuckets:
    """Token buckets in the platform database (`platform_rate_buckets`), shared by every
    process and host that serves it. Implements `ratelimit.Buckets`."""

    def __init__(self, url: str) -> None:
        if url.startswith("postgresql"):
            # Its own small pool, whose sessions skip the WAL flush wait: a bucket update lost
            # in a crash only returns a few tokens, not worth an fsync per request (the other
            # tables keep synchronous commits). No pre-ping: it would be a second round trip
            # on every request (0.54 against 0.38 ms measured); `allow` retries once on a
            # connection the server dropped instead.
            engine = create_engine(
                url,
                pool_size=4,
                max_overflow=4,
                connect_args={"options": "-c synchronous_commit=off"},
            )
        else:
            engine = make_engine(url)
        dialect = engine.dialect.name
        if dialect not in _NOW:
            engine.dispose()
            raise ValueError(f"database rate limits need PostgreSQL or SQLite, not {dialect}")
        # One statement per request, committed by itself: autocommit saves the COMMIT round
        # trip (the statement is atomic on its own).
        self._engine: Engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._owner = engine
        self._sql = text(_statement(dialect))

    def close(self) -> None:
        self._owner.dispose()

    def allow(self, key_id: int, rate_per_s: float, burst: int) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        params = {"key_id": key_id, "burst": burst, "rate": rate_per_s}
        try:
            tokens, granted = self._take(params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server closed a pooled connection (restart, idle timeout); SQLAlchemy has
            # invalidated the pool, so the retry gets a fresh one. The failed statement did
            # not commit (it is one autocommitted statement), so no token was taken twice.
            tokens, granted = self._take(params)
        if granted:
            return 0.0
        return (1.0 - tokens) / rate_per_s

    def _take(self, params: dict[str, float | int]) -> tuple[float, bool]:
        with self._engine.connect() as conn:
            tokens, granted = conn.execute(self._sql, params).one()
        return float(tokens), bool(granted)
