"""`ExchangeStore`: the exchange database's reads and writes.

Write methods take an open session (`store.transaction()`), so a push, its change-feed rows,
its links and its audit event commit together or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from tantalio.store.exchange.base import now, utc
from tantalio.store.exchange.db import make_engine, upgrade
from tantalio.store.exchange.models import (
    ExchangeAgency,
    ExchangeApiKey,
    ExchangeChange,
    ExchangeFanout,
    ExchangeIndexLog,
    ExchangeList,
    ExchangeListDelta,
    ExchangeListEntry,
    ExchangeMeta,
    ExchangePair,
    ExchangeRecord,
    ExchangeWatch,
)

CHUNK = 900  # bound parameters per IN (...) (SQLite's limit is 32766; stay well under)


class AgencyExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    agency_id: int
    agency: str
    country: str
    prefix: str
    scopes: frozenset[str]
    rate_per_s: float
    burst: int
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgencyRow:
    id: int
    name: str
    country: str
    contact: str | None


class IndexRow(NamedTuple):
    """What the in-memory index needs of a live record (a named tuple: a push builds
    10,000 of them, and a frozen dataclass costs several times more to build)."""

    id: int
    agency_id: int
    sha256: str | None
    sha1: str | None
    md5: str | None
    pdq: str | None
    pdq_quality: int | None
    vpdq: list[str] | None


RECORD_FIELDS = (
    "identity",
    "sha256",
    "sha1",
    "md5",
    "pdq",
    "pdq_quality",
    "vpdq",
    "category",
    "series",
    "status",
    "victim_identified",
    "offender_identified",
    "case_ref",
    "first_seen",
    "last_seen",
    "shared",
)
JSON_FIELDS = frozenset({"vpdq", "shared"})
INDEX_COLUMNS = (
    ExchangeRecord.id,
    ExchangeRecord.agency_id,
    ExchangeRecord.sha256,
    ExchangeRecord.sha1,
    ExchangeRecord.md5,
    ExchangeRecord.pdq,
    ExchangeRecord.pdq_quality,
    ExchangeRecord.vpdq,
)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


class ExchangeStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- agencies and keys -----------------------------------------------------------

    def create_agency(
        self, name: str, country: str, contact: str | None, rate_per_s: float, burst: int
    ) -> AgencyRow:
        with self.transaction() as s:
            if s.scalar(select(ExchangeAgency.id).where(ExchangeAgency.name == name)):
                raise AgencyExists(f"agency {name!r} exists")
            a = ExchangeAgency(
                name=name,
                country=country,
                contact=contact,
                rate_per_s=rate_per_s,
                burst=burst,
                created_at=now(),
            )
            s.add(a)
            s.flush()
            return AgencyRow(a.id, a.name, a.country, a.contact)

    def agency(self, name: str) -> AgencyRow | None:
        with self.session() as s:
            a = s.scalar(select(ExchangeAgency).where(ExchangeAgency.name == name))
            return AgencyRow(a.id, a.name, a.country, a.contact) if a else None

    def agencies(self) -> list[AgencyRow]:
        with self.session() as s:
            rows = s.scalars(select(ExchangeAgency).order_by(ExchangeAgency.name))
            return [AgencyRow(a.id, a.name, a.country, a.contact) for a in rows]

    def create_key(self, agency_id: int, prefix: str, key_hash: str, scopes: Iterable[str]) -> int:
        with self.transaction() as s:
            k = ExchangeApiKey(
                agency_id=agency_id,
                prefix=prefix,
                key_hash=key_hash,
                scopes=",".join(sorted(set(scopes))),
                created_at=now(),
            )
            s.add(k)
            s.flush()
            return k.id

    def key_by_hash(self, key_hash: str) -> KeyRow | None:
        with self.session() as s:
            row = s.execute(
                select(ExchangeApiKey, ExchangeAgency)
                .join(ExchangeAgency, ExchangeAgency.id == ExchangeApiKey.agency_id)
                .where(ExchangeApiKey.key_hash == key_hash)
            ).first()
        if row is None:
            return None
        k, a = row
        return KeyRow(
            k.id,
            a.id,
            a.name,
            a.country,
            k.prefix,
            frozenset(k.scopes.split(",")),
            a.rate_per_s,
            a.burst,
            utc(k.revoked_at),
        )

    def list_keys(self) -> list[tuple[int, str, str, str, datetime | None]]:
        """(id, agency, prefix, scopes, revoked_at) of every key."""
        with self.session() as s:
            rows = s.execute(
                select(
                    ExchangeApiKey.id,
                    ExchangeAgency.name,
                    ExchangeApiKey.prefix,
                    ExchangeApiKey.scopes,
                    ExchangeApiKey.revoked_at,
                )
                .join(ExchangeAgency, ExchangeAgency.id == ExchangeApiKey.agency_id)
                .order_by(ExchangeApiKey.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def revoke_key(self, s: Session, key_id: int) -> bool:
        done = s.execute(
            update(ExchangeApiKey)
            .where(ExchangeApiKey.id == key_id, ExchangeApiKey.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    # -- records ----------------------------------------------------------------------

    def upsert_records(
        self, s: Session, agency_id: int, records: Sequence[dict[str, Any]]
    ) -> tuple[list[IndexRow], list[IndexRow], list[IndexRow], int]:
        """Insert or update the agency's records by identity (the last of repeated identities
        wins; a retracted one comes back). Returns (created, updated as now, the same updated
        as before, how many were already stored exactly so)."""
        by_identity: dict[str, dict[str, Any]] = {r["identity"]: r for r in records}
        identities = list(by_identity)
        fields = [c for c in RECORD_FIELDS if c != "identity"]
        old: dict[str, IndexRow] = {}
        unchanged = 0
        # The stored ones by driver SQL with the identities as one parameter (a push's
        # 10,000 as one array / JSON text, not 12 statements of 900 bound values).
        param: Any
        if self.dialect == "postgresql":
            where, param = "= ANY(%s::text[])", identities
            mark = "%s"
        else:
            where, param = "IN (SELECT value FROM json_each(?))", json.dumps(identities)
            mark = "?"
        found = s.connection().exec_driver_sql(
            f"SELECT identity, retracted_at, id, agency_id, {', '.join(fields)}"
            f" FROM exchange_records WHERE agency_id = {mark} AND identity {where}",
            (agency_id, param),
        )
        for row in found:
            ident = row[0]
            stored = dict(zip(fields, row[4:], strict=True))
            for f in JSON_FIELDS:
                stored[f] = _json_value(stored[f])
            new = by_identity[ident]
            if row[1] is None and all(stored[f] == new.get(f) for f in fields):
                del by_identity[ident]
                unchanged += 1
                continue
            old[ident] = IndexRow(
                row[2],
                row[3],
                stored["sha256"],
                stored["sha1"],
                stored["md5"],
                stored["pdq"],
                stored["pdq_quality"],
                stored["vpdq"],
            )
        stamp = now()
        fresh = [r for ident, r in by_identity.items() if ident not in old]
        created: list[IndexRow] = []
        if fresh:
            ids = self._insert_fresh(s, agency_id, fresh, stamp)
            created = [
                IndexRow(i, agency_id, *_INDEX_FIELDS(c))
                for i, c in zip(ids, _complete(fresh), strict=True)
            ]
        updates = [
            {**by_identity[ident], "id": prev.id, "updated_at": stamp, "retracted_at": None}
            for ident, prev in old.items()
        ]
        if updates:
            s.execute(update(ExchangeRecord), updates)
        updated = [_index_row(u["id"], agency_id, u) for u in updates]
        return created, updated, list(old.values()), unchanged

    def _reserve_ids(self, s: Session, n: int) -> list[int]:
        """Ids for `n` new records, chosen before the insert so that nothing has to be read
        back. PostgreSQL: `n` values of the table's sequence in one statement. SQLite: the
        ones after the table's AUTOINCREMENT counter (and its highest id), which SQLite moves
        past ids inserted explicitly. Only the serving process writes records, under its
        write lock; should anything else insert one meanwhile, the insert fails on the
        primary key and the request's transaction rolls back (nothing is overwritten)."""
        conn = s.connection()
        if self.dialect == "postgresql":
            found = conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('exchange_records', 'id'))"
                " FROM generate_series(1, %s)",
                (n,),
            )
            return sorted(r[0] for r in found)
        top = conn.exec_driver_sql(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence"
            " WHERE name = 'exchange_records'), 0),"
            " coalesce((SELECT max(id) FROM exchange_records), 0))"
        ).scalar()
        return list(range(int(top or 0) + 1, int(top or 0) + 1 + n))

    def _insert_fresh(
        self, s: Session, agency_id: int, fresh: Sequence[dict[str, Any]], stamp: datetime
    ) -> list[int]:
        """New records with ids assigned here (`_reserve_ids`), in one driver call:
        PostgreSQL `COPY` (psycopg 3 `cursor.copy`), SQLite one `executemany`; no SQLAlchemy
        per-row processing and no read-back. Returns the ids in the order of `fresh`."""
        ids = self._reserve_ids(s, len(fresh))
        when: Any = stamp
        if self.dialect == "sqlite":  # as SQLAlchemy's SQLite DateTime stores it
            when = stamp.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = []
        for rid, values in zip(ids, map(_RECORD_VALUES, _complete(fresh)), strict=True):
            if values[6] is not None or values[15] is not None:  # vpdq, shared: JSON text
                values = tuple(
                    _json_col(v) if c in JSON_FIELDS else v
                    for c, v in zip(RECORD_FIELDS, values, strict=True)
                )
            rows.append((rid, agency_id, *values, when, when))
        names = ", ".join(["id", "agency_id", *RECORD_FIELDS, "created_at", "updated_at"])
        conn = s.connection()
        if self.dialect == "postgresql":
            raw: Any = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY exchange_records ({names}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ", ".join(["?"] * (len(RECORD_FIELDS) + 4))
            conn.exec_driver_sql(f"INSERT INTO exchange_records ({names}) VALUES ({marks})", rows)
        return ids

    def retract(self, s: Session, agency_id: int, identities: Sequence[str]) -> list[IndexRow]:
        """Retract the agency's live records with these identities; returns them."""
        rows: list[IndexRow] = []
        for part in _chunks(list(dict.fromkeys(identities))):
            rows += [
                IndexRow(*r)
                for r in s.execute(
                    select(*INDEX_COLUMNS).where(
                        ExchangeRecord.agency_id == agency_id,
                        ExchangeRecord.identity.in_(part),
                        ExchangeRecord.retracted_at.is_(None),
                    )
                )
            ]
        stamp = now()
        for part in _chunks([r.id for r in rows]):
            s.execute(
                update(ExchangeRecord)
                .where(ExchangeRecord.id.in_(part))
                .values(retracted_at=stamp, updated_at=stamp)
            )
        return rows

    def identities_elsewhere(self, s: Session, agency_id: int, identities: Sequence[str]) -> int:
        """How many of these identities are live records of other agencies only."""
        n = 0
        for part in _chunks(list(dict.fromkeys(identities))):
            n += int(
                s.scalar(
                    select(func.count(func.distinct(ExchangeRecord.identity))).where(
                        ExchangeRecord.identity.in_(part),
                        ExchangeRecord.agency_id != agency_id,
                        ExchangeRecord.retracted_at.is_(None),
                    )
                )
                or 0
            )
        return n

    def record_views(self, s: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """What another agency may see of these records (the contract's match fields), with
        the owning agency; retracted records included (`retracted`). Read with the driver's
        own rows: a query batch's ~500 views cost ~5x as much through SQLAlchemy's result
        processing (DateTime, JSON, Boolean per column per row) as its SQL."""
        out: dict[int, dict[str, Any]] = {}
        wanted = sorted(set(ids))
        pg = self.dialect == "postgresql"
        mark = "%s" if pg else "?"
        agencies = self._agency_views(s)
        conn = s.connection()
        for part in _chunks(wanted):
            rows = conn.exec_driver_sql(
                "SELECT id, agency_id, series, status, victim_identified, offender_identified,"
                " category, first_seen, last_seen, updated_at, retracted_at, shared"
                f" FROM exchange_records WHERE id IN ({', '.join([mark] * len(part))})",
                tuple(part),
            )
            for r in rows:
                agency: tuple[str | None, str | None, str | None] | None = agencies.get(r[1])
                if agency is None:  # an agency created after the cache: read them again
                    agency = self._agency_views(s, fresh=True).get(r[1]) or (None, None, None)
                updated = r[9]
                if isinstance(updated, str):
                    updated = datetime.fromisoformat(updated)
                shared = r[11]
                if isinstance(shared, str):
                    shared = json.loads(shared)
                out[r[0]] = {
                    "agency_id": r[1],
                    "agency": agency[0],
                    "country": agency[1],
                    "contact": agency[2],
                    "series": r[2],
                    "status": r[3],
                    "victim_identified": bool(r[4]),
                    "offender_identified": bool(r[5]),
                    "category": r[6],
                    "first_seen": r[7],
                    "last_seen": r[8],
                    "updated_at": utc(updated),
                    "retracted": r[10] is not None,
                    "shared": shared,
                }
        return out

    def _agency_views(
        self, s: Session, fresh: bool = False
    ) -> dict[int, tuple[str, str, str | None]]:
        """id -> (name, country, contact) of every agency, read once a second at most."""
        cached = getattr(self, "_agencies_cache", None)
        stamp = time.monotonic()
        if fresh or cached is None or stamp - cached[0] > 1.0:
            rows = s.execute(
                select(
                    ExchangeAgency.id,
                    ExchangeAgency.name,
                    ExchangeAgency.country,
                    ExchangeAgency.contact,
                )
            )
            cached = (stamp, {r[0]: (r[1], r[2], r[3]) for r in rows})
            self._agencies_cache = cached
        return cached[1]

    def iter_index_columns(self, chunk: int = 200_000) -> Iterator[tuple[list[Any], ...]]:
        """Every live record in id order as column lists (id, agency_id, sha256, sha1, md5,
        pdq, pdq_quality, vpdq): the start-up index load reads 10M rows without building an
        object per row."""
        last = 0
        sql = (
            "SELECT id, agency_id, sha256, sha1, md5, pdq, pdq_quality, vpdq"
            " FROM exchange_records WHERE id > {p} AND retracted_at IS NULL ORDER BY id LIMIT {n}"
        )
        mark = "%s" if self.dialect == "postgresql" else "?"
        query = sql.format(p=mark, n=int(chunk))
        raw = self.engine.raw_connection()  # the driver's rows, without Result processing
        try:
            while True:
                cur = raw.cursor()
                cur.execute(query, (last,))
                rows = cur.fetchall()
                cur.close()
                if not rows:
                    return
                cols = [list(c) for c in zip(*rows, strict=True)]
                cols[7] = [json.loads(v) if isinstance(v, str) else v for v in cols[7]]
                yield tuple(cols)
                last = rows[-1][0]
        finally:
            raw.close()

    # -- index snapshot marks and fast reads ------------------------------------------

    def database_id(self) -> str:
        """The random id migration 0002 gave this database (snapshots carry it)."""
        with self.session() as s:
            value = s.scalar(select(ExchangeMeta.value).where(ExchangeMeta.key == "database_id"))
        if not value:
            raise RuntimeError("exchange database has no database_id (migration 0002 missing)")
        return str(value)

    def index_marks(self) -> tuple[int, int]:
        """(highest record id, highest index-log seq, or the pruned mark when the log is
        empty after pruning): what an index snapshot has seen."""
        with self.session() as s:
            rid = s.scalar(select(func.max(ExchangeRecord.id))) or 0
            seq = s.scalar(select(func.max(ExchangeIndexLog.seq))) or 0
        return int(rid), max(int(seq), self.index_log_pruned())

    def index_log_since(self, seq: int) -> list[tuple[int, int]]:
        """(record id, agency id) of records changed in place or deleted after `seq`."""
        with self.session() as s:
            rows = s.execute(
                select(ExchangeIndexLog.record_id, ExchangeIndexLog.agency_id)
                .where(ExchangeIndexLog.seq > seq)
                .distinct()
            ).all()
        return [(int(r[0]), int(r[1])) for r in rows]

    def prune_index_log(self, seq: int) -> int:
        """Drop log rows up to `seq` (a snapshot at `seq` or later has them); the pruned mark
        is kept so an older snapshot, which would need them, is refused."""
        with self.transaction() as s:
            result = s.execute(delete(ExchangeIndexLog).where(ExchangeIndexLog.seq <= seq))
            n = getattr(result, "rowcount", 0)
            stored = s.get(ExchangeMeta, "index_log_pruned")
            if stored is None:
                s.add(ExchangeMeta(key="index_log_pruned", value=str(seq)))
            elif int(stored.value) < seq:
                stored.value = str(seq)
        return int(n or 0)

    def index_log_pruned(self) -> int:
        with self.session() as s:
            value = s.scalar(
                select(ExchangeMeta.value).where(ExchangeMeta.key == "index_log_pruned")
            )
        return int(value or 0)

    def index_rows(self, ids: Iterable[int]) -> list[IndexRow]:
        """The live records among `ids`, as the index holds them."""
        out: list[IndexRow] = []
        with self.session() as s:
            for part in _chunks(sorted(set(ids))):
                out += [
                    IndexRow(*r)
                    for r in s.execute(
                        select(*INDEX_COLUMNS).where(
                            ExchangeRecord.id.in_(part), ExchangeRecord.retracted_at.is_(None)
                        )
                    )
                ]
        return out

    def iter_index_arrays(
        self, after_id: int = 0, chunk: int = 1_000_000
    ) -> Iterator[dict[str, Any]]:
        """Every live record with id > `after_id`, in chunks of numpy arrays: `ids`,
        `agencies` (int64), `sha256`/`sha1`/`md5`/`pdq` (uint8 (n, bytes); zeros where
        absent), `quality` (int16, -1 where absent), `has` (uint8 bits: 1 sha256, 2 sha1,
        4 md5, 8 pdq, 16 vpdq), `vpdq` ({id: frames} of the videos). The database
        concatenates each column of a chunk into one string (group_concat / string_agg),
        so 10M rows cost a few hundred Python objects instead of 80M. Raises ValueError
        when a stored value is not the hex it should be (the caller then falls back to
        `iter_index_columns`)."""
        pg = self.dialect == "postgresql"
        widths = {"sha256": 32, "sha1": 20, "md5": 16, "pdq": 32}
        flag = "({} IS {}NULL)::int" if pg else "({} IS {}NULL)"
        has = " + ".join(
            [f"{1 << i} * {flag.format(c, 'NOT ')}" for i, c in enumerate(widths)]
            + [f"16 * {flag.format('vpdq', 'NOT ')}"]
        )
        if pg:
            agg_num = "string_agg({}::text, ',')"
            agg_hex = "string_agg(coalesce({}, '{}'), '')"
        else:
            agg_num = "group_concat({}, ',')"
            agg_hex = "group_concat(coalesce({}, '{}'), '')"
        cols = [
            "max(id)",
            "count(*)",
            agg_num.format("id"),
            agg_num.format("agency_id"),
            *[agg_hex.format(c, "0" * (2 * w)) for c, w in widths.items()],
            agg_num.format("coalesce(pdq_quality, -1)"),
            agg_num.format("has"),
        ]
        mark = "%s" if pg else "?"
        vpdq = "vpdq::text" if pg else "vpdq"
        sql = (
            f"SELECT {', '.join(cols)} FROM (SELECT id, agency_id, sha256, sha1, md5, pdq,"
            f" pdq_quality, {has} AS has FROM exchange_records"
            f" WHERE id > {mark} AND retracted_at IS NULL ORDER BY id LIMIT {int(chunk)}) t"
        )
        last = after_id
        raw = self.engine.raw_connection()
        try:
            while True:
                cur = raw.cursor()
                cur.execute(sql, (last,))
                row = cur.fetchone()
                cur.close()
                if row is None or not row[1]:
                    return
                top, n = int(row[0]), int(row[1])
                out: dict[str, Any] = {
                    "ids": np.array(row[2].split(","), dtype=np.int64),
                    "agencies": np.array(row[3].split(","), dtype=np.int64),
                }
                for k, (name, width) in enumerate(widths.items()):
                    text = row[4 + k]
                    if len(text) != 2 * width * n:
                        raise ValueError(f"exchange_records.{name}: a stored value is not hex")
                    out[name] = np.frombuffer(bytes.fromhex(text), np.uint8).reshape(n, width)
                out["quality"] = np.array(row[8].split(","), dtype=np.int16)
                out["has"] = np.array(row[9].split(","), dtype=np.uint8)
                if len(out["ids"]) != n or len(out["has"]) != n:
                    raise ValueError("exchange_records: column lengths differ")
                video = out["ids"][(out["has"] & 16) > 0]
                frames: dict[int, list[str]] = {}
                if len(video):
                    cur = raw.cursor()
                    for part in _chunks(video.tolist()):
                        cur.execute(
                            f"SELECT id, {vpdq} FROM exchange_records WHERE id IN"
                            f" ({', '.join([mark] * len(part))})",
                            tuple(part),
                        )
                        frames.update(
                            (int(i), json.loads(v) if isinstance(v, str) else v)
                            for i, v in cur.fetchall()
                        )
                    cur.close()
                out["vpdq"] = frames
                yield out
                last = top
        finally:
            raw.close()

    def bulk_insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Load many new records at once (benchmarks, migrations from another exchange):
        (agency_id, identity, sha256, md5, pdq, pdq_quality, category, series, status)
        tuples, straight to the driver's executemany; no feed, no audit. The server builds
        its index from them at its next start."""
        stamp: Any = now()
        if self.dialect == "sqlite":  # as SQLAlchemy's SQLite DateTime stores it
            stamp = stamp.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        sql = (
            "INSERT INTO exchange_records (agency_id, identity, sha256, md5, pdq, pdq_quality,"
            " category, series, status, victim_identified, offender_identified, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if self.dialect == "postgresql":  # COPY: several times an executemany's rate
            raw = self.engine.raw_connection()
            try:
                cur: Any = raw.cursor()  # psycopg's cursor (COPY is not in DB-API)
                names = sql[sql.index("(") + 1 : sql.index(")")]
                with cur.copy(f"COPY exchange_records ({names}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row((*r, False, False, stamp, stamp))
                cur.close()
                raw.commit()
            finally:
                raw.close()
            return
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql, [(*r, False, False, stamp, stamp) for r in rows])

    def count_records(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ExchangeRecord)) or 0)

    # -- watches, changes, pairs -------------------------------------------------------

    def add_watches(self, s: Session, rows: Sequence[tuple[int, str, str]]) -> None:
        """(agency_id, kind, value) rows; already watched ones are left as they are. Straight
        to the driver's executemany (a query batch writes up to 2 rows a query)."""
        if not rows:
            return
        sql = (
            "INSERT INTO exchange_watches (agency_id, kind, value) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING"
        )
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        s.connection().exec_driver_sql(sql, list(dict.fromkeys(rows)))

    def iter_watches(self, chunk: int = 200_000) -> Iterator[list[tuple[int, str, str]]]:
        last = 0
        while True:
            with self.session() as s:
                rows = s.execute(
                    select(
                        ExchangeWatch.id,
                        ExchangeWatch.agency_id,
                        ExchangeWatch.kind,
                        ExchangeWatch.value,
                    )
                    .where(ExchangeWatch.id > last)
                    .order_by(ExchangeWatch.id)
                    .limit(chunk)
                ).all()
            if not rows:
                return
            yield [(r[1], r[2], r[3]) for r in rows]
            last = rows[-1][0]

    def add_changes(self, s: Session, rows: Sequence[tuple[int, int, dict[str, Any]]]) -> None:
        """(recipient agency, record id, info) rows appended to the feed; info holds
        `watched` ({kind: the recipient's hash}), `match` and `distance`."""
        if not rows:
            return
        stamp = now()
        s.execute(
            insert(ExchangeChange),
            [{"agency_id": a, "record_id": r, "info": i, "at": stamp} for a, r, i in rows],
        )

    def changes(
        self, s: Session, agency_id: int, since: int, limit: int
    ) -> list[tuple[int, int, dict[str, Any]]]:
        rows = s.execute(
            select(ExchangeChange.seq, ExchangeChange.record_id, ExchangeChange.info)
            .where(ExchangeChange.agency_id == agency_id, ExchangeChange.seq > since)
            .order_by(ExchangeChange.seq)
            .limit(limit)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def queue_fanout(self, s: Session, record_ids: Sequence[int]) -> None:
        """Queue records for the deferred PDQ fan-out: one statement with the ids as one
        parameter (a PostgreSQL array, a JSON array for SQLite's `json_each`)."""
        if not record_ids:
            return
        conn = s.connection()
        if self.dialect == "postgresql":
            conn.exec_driver_sql(
                "INSERT INTO exchange_fanout_queue (record_id) SELECT unnest(%s::bigint[])",
                (list(record_ids),),
            )
        else:
            conn.exec_driver_sql(
                "INSERT INTO exchange_fanout_queue (record_id) SELECT value FROM json_each(?)",
                (json.dumps(list(record_ids)),),
            )

    def next_fanout(self, limit: int) -> list[IndexRow]:
        """The oldest queued records still live (queued ones since retracted are skipped:
        their retraction fanned out already). Driver SQL with the ids as one parameter: a
        batch is 10,000 ids, and SQLAlchemy's expanding IN cost a fifth of a drain."""
        with self.engine.connect() as conn:
            ids = [
                int(r[0])
                for r in conn.exec_driver_sql(
                    "SELECT record_id FROM exchange_fanout_queue ORDER BY record_id"
                    f" LIMIT {int(limit)}"
                )
            ]
            if not ids:
                return []
            sql, param = self._id_set(ids)
            rows = conn.exec_driver_sql(
                "SELECT id, agency_id, sha256, sha1, md5, pdq, pdq_quality, vpdq"
                f" FROM exchange_records WHERE id {sql} AND retracted_at IS NULL",
                (param,),
            )
            live = {
                r[0]: IndexRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], _json_value(r[7]))
                for r in rows
            }
        return [live.get(i) or IndexRow(i, 0, None, None, None, None, None, None) for i in ids]

    def done_fanout(self, s: Session, record_ids: Sequence[int]) -> None:
        if record_ids:
            sql, param = self._id_set(record_ids)
            s.connection().exec_driver_sql(
                f"DELETE FROM exchange_fanout_queue WHERE record_id {sql}", (param,)
            )

    def _id_set(self, ids: Sequence[int]) -> tuple[str, Any]:
        """`IN (these ids)` as one bound parameter: a PostgreSQL array, a JSON array that
        SQLite's `json_each` reads."""
        if self.dialect == "postgresql":
            return "= ANY(%s::bigint[])", [int(i) for i in ids]
        return "IN (SELECT value FROM json_each(?))", json.dumps([int(i) for i in ids])

    def pending_fanout(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ExchangeFanout)) or 0)

    def add_pairs(self, s: Session, pairs: dict[tuple[int, int], tuple[str, int]]) -> None:
        """Pairs of two agencies' records of the same media, stored both ways round."""
        if not pairs:
            return
        values = [
            {"a_id": x, "b_id": y, "match": m, "distance": d}
            for (a, b), (m, d) in pairs.items()
            for x, y in ((a, b), (b, a))
        ]
        stmt: Any
        if self.dialect == "postgresql":
            stmt = postgresql.insert(ExchangePair).on_conflict_do_nothing()
        else:
            stmt = sqlite.insert(ExchangePair).on_conflict_do_nothing()
        for part in _chunks(values, 5000):
            s.execute(stmt, list(part))

    def series_links(self, s: Session, agency_id: int) -> list[dict[str, Any]]:
        """The agency's series that share media with another agency's series."""
        mine, other = aliased(ExchangeRecord), aliased(ExchangeRecord)
        rows = s.execute(
            select(
                mine.series,
                ExchangeAgency.name,
                ExchangeAgency.country,
                other.series,
                func.count(func.distinct(mine.id)),
                # "identified" < "in-progress" < "unidentified": the furthest status
                func.min(other.status),
            )
            .select_from(ExchangePair)
            .join(mine, ExchangePair.a_id == mine.id)
            .join(other, ExchangePair.b_id == other.id)
            .join(ExchangeAgency, ExchangeAgency.id == other.agency_id)
            .where(
                mine.agency_id == agency_id,
                other.agency_id != agency_id,
                mine.retracted_at.is_(None),
                other.retracted_at.is_(None),
                mine.series.is_not(None),
                other.series.is_not(None),
            )
            .group_by(mine.series, ExchangeAgency.name, ExchangeAgency.country, other.series)
            .order_by(mine.series, ExchangeAgency.name, other.series)
        )
        return [
            {
                "series": r[0],
                "agency": r[1],
                "country": r[2],
                "other_series": r[3],
                "shared_media": int(r[4]),
                "other_status": r[5],
            }
            for r in rows
        ]

    # -- lists ------------------------------------------------------------------------

    def create_list(
        self, s: Session, name: str, description: str | None, category: int, min_agencies: int
    ) -> ExchangeList:
        if s.scalar(select(ExchangeList.id).where(ExchangeList.name == name)):
            raise AgencyExists(f"list {name!r} exists")
        lst = ExchangeList(
            name=name,
            description=description,
            category=category,
            min_agencies=min_agencies,
            created_at=now(),
        )
        s.add(lst)
        s.flush()
        return lst

    def get_list(self, s: Session, name: str, *, lock: bool = False) -> ExchangeList | None:
        query = select(ExchangeList).where(ExchangeList.name == name)
        if lock:
            query = query.with_for_update()
        return s.scalar(query)

    def agreed(self, s: Session, category: int, min_agencies: int) -> dict[str, dict[str, Any]]:
        """identity -> hashes of every media that at least `min_agencies` agencies hold live
        in `category` (agreement is on the same identity)."""
        agreed = (
            select(ExchangeRecord.identity)
            .where(ExchangeRecord.category == category, ExchangeRecord.retracted_at.is_(None))
            .group_by(ExchangeRecord.identity)
            .having(func.count(func.distinct(ExchangeRecord.agency_id)) >= min_agencies)
            .subquery()
        )
        rows = s.execute(
            select(
                ExchangeRecord.identity,
                func.max(ExchangeRecord.sha256),
                func.max(ExchangeRecord.sha1),
                func.max(ExchangeRecord.md5),
                func.max(ExchangeRecord.pdq),
            )
            .where(
                ExchangeRecord.identity.in_(select(agreed.c.identity)),
                ExchangeRecord.category == category,
                ExchangeRecord.retracted_at.is_(None),
            )
            .group_by(ExchangeRecord.identity)
        )
        out: dict[str, dict[str, Any]] = {}
        for ident, sha256, sha1, md5, pdq in rows:
            entry: dict[str, Any] = {"category": category}
            for k, v in (("sha256", sha256), ("sha1", sha1), ("md5", md5), ("pdq", pdq)):
                if v:
                    entry[k] = v
            out[ident] = entry
        return out

    def list_entries(self, s: Session, list_id: int) -> dict[str, dict[str, Any]]:
        rows = s.execute(
            select(ExchangeListEntry.identity, ExchangeListEntry.entry).where(
                ExchangeListEntry.list_id == list_id
            )
        )
        return {r[0]: r[1] for r in rows}

    def save_delta(
        self,
        s: Session,
        lst: ExchangeList,
        seq: int,
        digest: str,
        document: str,
        add: dict[str, dict[str, Any]],
        retract: Sequence[str],
    ) -> None:
        s.add(
            ExchangeListDelta(
                list_id=lst.id,
                seq=seq,
                digest=digest,
                document=document,
                added=len(add),
                retracted=len(retract),
                created_at=now(),
            )
        )
        for part in _chunks(list(retract)):
            s.execute(
                delete(ExchangeListEntry).where(
                    ExchangeListEntry.list_id == lst.id, ExchangeListEntry.identity.in_(part)
                )
            )
        if add:
            s.execute(
                insert(ExchangeListEntry),
                [{"list_id": lst.id, "identity": i, "entry": e} for i, e in add.items()],
            )
        lst.last_seq = seq
        lst.last_digest = digest

    def deltas_after(self, s: Session, list_id: int, after: int, limit: int) -> list[str]:
        rows = s.scalars(
            select(ExchangeListDelta.document)
            .where(ExchangeListDelta.list_id == list_id, ExchangeListDelta.seq > after)
            .order_by(ExchangeListDelta.seq)
            .limit(limit)
        )
        return list(rows)


_RECORD_VALUES = itemgetter(*RECORD_FIELDS)
_INDEX_FIELDS = itemgetter("sha256", "sha1", "md5", "pdq", "pdq_quality", "vpdq")


def _complete(records: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each record with every field (absent ones None): parsed pushes have them all."""
    for r in records:
        yield r if len(r) >= len(RECORD_FIELDS) else {c: r.get(c) for c in RECORD_FIELDS}


def _json_value(value: Any) -> Any:
    """A JSON column as the driver returns it (SQLite: text; psycopg: decoded)."""
    return json.loads(value) if isinstance(value, str) else value


def _json_col(value: Any) -> str | None:
    """A JSON column's value as the driver takes it (None stays SQL NULL)."""
    return None if value is None else json.dumps(value)


def _index_row(record_id: int, agency_id: int, cols: dict[str, Any]) -> IndexRow:
    return IndexRow(
        record_id,
        agency_id,
        cols.get("sha256"),
        cols.get("sha1"),
        cols.get("md5"),
        cols.get("pdq"),
        cols.get("pdq_quality"),
        cols.get("vpdq"),
    )
