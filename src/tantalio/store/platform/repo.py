"""`PlatformStore`: every read and write the platform service makes, as plain records.

The service layer (`tantalio.platform`) never imports SQLAlchemy; it calls these methods.
Writes that change what can match (entries added or removed, banks deleted) append to
`platform_index_changes` in the same transaction, so every serving process can follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD
from tantalio.store.platform import audit as platform_audit
from tantalio.store.platform import db
from tantalio.store.platform.base import now, utc
from tantalio.store.platform.models import (
    PlatformApiKey,
    PlatformBank,
    PlatformEntry,
    PlatformEntryFeatures,
    PlatformIndexChange,
)
from tantalio.store.platform.records import (
    ApiKeyRecord,
    BankRecord,
    BulkSegmentRecord,
    EntryRecord,
    IndexChange,
    IndexRow,
    NewEntry,
)
from tantalio.store.platform.repo_bulk import BulkMixin
from tantalio.store.platform.repo_ops import OpsMixin

_BATCH = 5000


class BankExists(ValueError):
    pass


def _bank(b: PlatformBank) -> BankRecord:
    return BankRecord(
        id=b.id,
        name=b.name,
        enabled=b.enabled,
        enabled_ratio=b.enabled_ratio,
        pdq_threshold=b.pdq_threshold,
        description=b.description,
        created_at=utc(b.created_at),  # type: ignore[arg-type]
        match_rules=dict(b.match_rules) if b.match_rules else None,
    )


def _key(k: PlatformApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=k.id,
        name=k.name,
        prefix=k.prefix,
        key_hash=k.key_hash,
        scopes=frozenset(s for s in k.scopes.split(",") if s),
        rate_per_s=k.rate_per_s,
        burst=k.burst,
        created_at=utc(k.created_at),  # type: ignore[arg-type]
        revoked_at=utc(k.revoked_at),
    )


def _live_bank(s: Session, name: str) -> PlatformBank | None:
    """The bank called `name`, unless deleted (a deleted bank keeps a renamed row)."""
    return s.scalar(
        select(PlatformBank).where(PlatformBank.name == name, PlatformBank.deleted_at.is_(None))
    )


def _runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ids as inclusive runs: [1,2,3,7] -> [(1,3),(7,7)] (one change row per run)."""
    out: list[tuple[int, int]] = []
    for i in sorted(ids):
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


class PlatformStore(OpsMixin, BulkMixin):
    def __init__(self, url: str = db.DEFAULT_URL, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = db.make_engine(url)
        if migrate:
            db.upgrade(self.engine)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._bulk_indexes: dict[int, Any] = {}  # bulk segments mapped to read their hashes
        self._bulk_seg_cache: list[BulkSegmentRecord] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self._bulk_indexes.clear()
        self._bulk_seg_cache = None
        self.engine.dispose()

    # -- banks -------------------------------------------------------------------------

    def create_bank(
        self,
        name: str,
        *,
        enabled: bool = True,
        enabled_ratio: float = 1.0,
        pdq_threshold: int = DEFAULT_PDQ_THRESHOLD,
        description: str | None = None,
        match_rules: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> BankRecord:
        with self.session.begin() as s:
            if s.scalar(select(PlatformBank.id).where(PlatformBank.name == name)) is not None:
                raise BankExists(f"bank {name!r} already exists")
            b = PlatformBank(
                name=name,
                enabled=enabled,
                enabled_ratio=enabled_ratio,
                pdq_threshold=pdq_threshold,
                description=description,
                created_at=now(),
                match_rules=match_rules or None,
            )
            s.add(b)
            s.flush()
            platform_audit.append(
                s,
                "bank.create",
                actor=actor,
                object_type="bank",
                object_id=name,
                detail={"enabled": enabled, "pdq_threshold": pdq_threshold, "rules": match_rules},
            )
            return _bank(b)

    def list_banks(self) -> list[BankRecord]:
        with self.session() as s:
            q = (
                select(PlatformBank)
                .where(PlatformBank.deleted_at.is_(None))
                .order_by(PlatformBank.id)
            )
            return [_bank(b) for b in s.scalars(q)]

    def get_bank(self, name: str) -> BankRecord | None:
        with self.session() as s:
            b = _live_bank(s, name)
            return _bank(b) if b else None

    def banks_by_id(self, *, include_deleted: bool = False) -> dict[int, BankRecord]:
        with self.session() as s:
            q = select(PlatformBank)
            if not include_deleted:
                q = q.where(PlatformBank.deleted_at.is_(None))
            return {b.id: _bank(b) for b in s.scalars(q)}

    def update_bank(
        self, name: str, *, actor: str | None = None, **fields: Any
    ) -> BankRecord | None:
        allowed = {
            "name",
            "enabled",
            "enabled_ratio",
            "pdq_threshold",
            "description",
            "match_rules",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update bank field(s): {', '.join(sorted(unknown))}")
        with self.session.begin() as s:
            b = _live_bank(s, name)
            if b is None:
                return None
            new_name = fields.get("name")
            if new_name and new_name != name:
                taken = s.scalar(select(PlatformBank.id).where(PlatformBank.name == new_name))
                if taken is not None:
                    raise BankExists(f"bank {new_name!r} already exists")
            changed = {k: v for k, v in fields.items() if v is not None}
            for k, v in changed.items():
                setattr(b, k, v)
            s.flush()
            platform_audit.append(
                s, "bank.config", actor=actor, object_type="bank", object_id=name, detail=changed
            )
            return _bank(b)

    def delete_bank(self, name: str, *, actor: str | None = None) -> bool:
        with self.session.begin() as s:
            b = _live_bank(s, name)
            if b is None:
                return False
            live = (PlatformEntry.bank_id == b.id, PlatformEntry.removed_at.is_(None))
            ids = list(s.scalars(select(PlatformEntry.id).where(*live)))
            self._log(s, "remove", ids, b.id)
            s.execute(update(PlatformEntry).where(*live).values(removed_at=now()))
            # Kept (renamed) so reports can still name the bank an old match came from.
            b.deleted_at = now()
            b.name = f"{b.name}#deleted-{b.id}"
            platform_audit.append(
                s,
                "bank.delete",
                actor=actor,
                object_type="bank",
                object_id=name,
                detail={"entries_removed": len(ids)},
            )
            return True

    def bank_sizes(self) -> dict[int, int]:
        with self.session() as s:
            rows = s.execute(
                select(PlatformEntry.bank_id, func.count())
                .where(PlatformEntry.removed_at.is_(None))
                .group_by(PlatformEntry.bank_id)
            )
            sizes = {int(b): int(n) for b, n in rows}
        for b, n in self.bulk_sizes().items():
            sizes[b] = sizes.get(b, 0) + n
        return sizes

    # -- entries -----------------------------------------------------------------------

    def _log(self, s: Session, op: str, ids: Sequence[int], bank_id: int) -> None:
        rows = [{"op": op, "first_id": a, "last_id": b, "bank_id": bank_id} for a, b in _runs(ids)]
        for i in range(0, len(rows), _BATCH):
            s.execute(insert(PlatformIndexChange), rows[i : i + _BATCH])

    def add_entries(self, bank_id: int, entries: Iterable[NewEntry]) -> list[int]:
        """Insert entries (batched) and log them for the index; returns their ids in order."""
        added = now()
        ids: list[int] = []
        with self.session.begin() as s:
            batch: list[dict[str, Any]] = []
            for e in entries:
                batch.append(self.entry_row(bank_id, e, added))
                if len(batch) >= _BATCH:
                    ids.extend(self._insert_entries(s, batch))
                    batch = []
            if batch:
                ids.extend(self._insert_entries(s, batch))
            self._log(s, "add", ids, bank_id)
        return ids

    @staticmethod
    def entry_row(bank_id: int, e: NewEntry, added: Any) -> dict[str, Any]:
        """The row of one new entry (shared by imports and subscription pulls)."""
        return {
            "bank_id": bank_id,
            "md5": e.md5,
            "sha1": e.sha1,
            "sha256": e.sha256,
            "pdq": e.pdq,
            "vpdq": e.vpdq,
            "photodna": e.photodna,
            "category": e.category,
            "source_category": e.source_category,
            "source_list": e.source_list,
            "original_id": e.original_id,
            "added_at": added,
            "source_added_at": e.source_added_at,
            "meta": e.meta,
        }

    @staticmethod
    def _insert_entries(s: Session, batch: list[dict[str, Any]]) -> list[int]:
        res = s.execute(
            insert(PlatformEntry).returning(PlatformEntry.id, sort_by_parameter_order=True),
            batch,
        )
        return [int(r[0]) for r in res]

    def remove_entries(self, ids: Iterable[int], bank_id: int | None = None) -> int:
        """Delete entries by id (optionally only within one bank); returns how many went."""
        wanted = list(ids)
        removed = 0
        with self.session.begin() as s:
            for i in range(0, len(wanted), _BATCH):
                chunk = wanted[i : i + _BATCH]
                q = select(PlatformEntry.id, PlatformEntry.bank_id).where(
                    PlatformEntry.id.in_(chunk), PlatformEntry.removed_at.is_(None)
                )
                if bank_id is not None:
                    q = q.where(PlatformEntry.bank_id == bank_id)
                by_bank: dict[int, list[int]] = {}
                for eid, bid in s.execute(q):
                    by_bank.setdefault(int(bid), []).append(int(eid))
                for bid, eids in by_bank.items():
                    self._log(s, "remove", eids, bid)
                    s.execute(
                        update(PlatformEntry)
                        .where(PlatformEntry.id.in_(eids))
                        .values(removed_at=now())
                    )
                    removed += len(eids)
            by_bank = {}
            for eid, bid in self._bulk_tombstones(s, wanted, bank_id).items():
                by_bank.setdefault(bid, []).append(eid)
            for bid, eids in by_bank.items():
                self._log(s, "remove", eids, bid)
                removed += len(eids)
        return removed

    # -- local features of banked pictures (issue 13) ------------------------------------

    def add_entry_features(self, rows: Sequence[tuple[int, str]]) -> None:
        """Store (entry id, `lf1:` text) of entries banked as files."""
        if not rows:
            return
        with self.session.begin() as s:
            s.execute(
                insert(PlatformEntryFeatures),
                [{"entry_id": e, "local_features": t} for e, t in rows],
            )

    def local_features_version(self) -> tuple[int, int]:
        """(change-feed position, feature rows): changes when an entry with local features
        is added or any entry removed, so a serving process knows to reload them."""
        with self.session() as s:
            n = s.scalar(select(func.count()).select_from(PlatformEntryFeatures)) or 0
            seq = s.scalar(select(func.max(PlatformIndexChange.seq))) or 0
        return int(seq), int(n)

    def local_feature_rows(self) -> list[tuple[int, int, str]]:
        """(entry id, bank id, `lf1:` text) of every live entry in a live bank."""
        with self.session() as s:
            q = (
                select(
                    PlatformEntry.id, PlatformEntry.bank_id, PlatformEntryFeatures.local_features
                )
                .join(PlatformEntryFeatures, PlatformEntryFeatures.entry_id == PlatformEntry.id)
                .join(PlatformBank, PlatformBank.id == PlatformEntry.bank_id)
                .where(PlatformEntry.removed_at.is_(None), PlatformBank.deleted_at.is_(None))
                .order_by(PlatformEntry.id)
            )
            return [(int(e), int(b), str(t)) for e, b, t in s.execute(q)]

    def entry_local_features(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(set(ids))
        out: dict[int, str] = {}
        with self.session() as s:
            for i in range(0, len(wanted), _BATCH):
                q = select(PlatformEntryFeatures.entry_id, PlatformEntryFeatures.local_features)
                q = q.where(PlatformEntryFeatures.entry_id.in_(wanted[i : i + _BATCH]))
                out.update((int(e), str(t)) for e, t in s.execute(q))
        return out

    def get_entries(self, ids: Iterable[int]) -> list[EntryRecord]:
        wanted = sorted(set(ids))
        out: list[EntryRecord] = []
        with self.session() as s:
            for i in range(0, len(wanted), _BATCH):
                q = (
                    select(PlatformEntry, PlatformBank.name)
                    .join(PlatformBank, PlatformBank.id == PlatformEntry.bank_id)
                    .where(PlatformEntry.id.in_(wanted[i : i + _BATCH]))
                )
                for e, bank_name in s.execute(q):
                    out.append(_entry(e, bank_name))
        if len(out) < len(wanted):  # bulk entries have no row unless removed
            found = {e.id for e in out}
            out.extend(self.bulk_entries(i for i in wanted if i not in found))
        return out

    def list_entries(
        self, bank_id: int, *, limit: int = 100, after_id: int = 0
    ) -> list[EntryRecord]:
        with self.session() as s:
            q = (
                select(PlatformEntry, PlatformBank.name)
                .join(PlatformBank, PlatformBank.id == PlatformEntry.bank_id)
                .where(
                    PlatformEntry.bank_id == bank_id,
                    PlatformEntry.id > after_id,
                    PlatformEntry.removed_at.is_(None),
                )
                .order_by(PlatformEntry.id)
                .limit(limit)
            )
            return [_entry(e, n) for e, n in s.execute(q)]

    def iter_index_rows(
        self, *, after_id: int = 0, chunk: int = 50_000
    ) -> Iterator[list[IndexRow]]:
        """Every entry's hashes in id order, in chunks (a full index load at start-up)."""
        cols = (
            PlatformEntry.id,
            PlatformEntry.bank_id,
            PlatformEntry.md5,
            PlatformEntry.sha1,
            PlatformEntry.sha256,
            PlatformEntry.pdq,
            PlatformEntry.vpdq,
        )
        last = after_id
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(*cols)
                    .where(PlatformEntry.id > last)
                    .order_by(PlatformEntry.id)
                    .limit(chunk)
                ).all()
                if not rows:
                    return
                yield [IndexRow(*r) for r in rows]
                last = rows[-1][0]

    def iter_index_columns(
        self, *, chunk: int = 200_000
    ) -> Iterator[
        tuple[
            list[int],
            list[int],
            list[str | None],
            list[str | None],
            list[str | None],
            list[str | None],
            list[Any],
        ]
    ]:
        """The start-up load's fast path: live entries as columns (ids, bank ids, md5, sha1,
        sha256, pdq, vpdq), in id order, `chunk` rows at a time, no per-row objects."""
        last = 0
        t = PlatformEntry.__table__
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(t.c.id, t.c.bank_id, t.c.md5, t.c.sha1, t.c.sha256, t.c.pdq, t.c.vpdq)
                    .where(t.c.id > last, t.c.removed_at.is_(None))
                    .order_by(t.c.id)
                    .limit(chunk)
                ).all()
                if not rows:
                    return
                cols = tuple(list(c) for c in zip(*rows, strict=True))
                yield cols  # type: ignore[misc]
                last = rows[-1][0]

    def add_pdq_bulk(
        self,
        bank_id: int,
        hashes: Sequence[str],
        *,
        source_list: str | None = None,
        category: int | None = None,
    ) -> int:
        """Insert many PDQ-only entries with the fewest columns (bulk list loads, the
        benchmark); logged to the change feed like any add. Returns how many were added."""
        t = PlatformEntry.__table__
        added: Any = now()
        if self.dialect == "sqlite":  # the text form SQLAlchemy's SQLite DateTime reads back
            added = added.strftime("%Y-%m-%d %H:%M:%S.%f")
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            f"INSERT INTO {PlatformEntry.__tablename__} "
            "(bank_id, pdq, category, source_list, added_at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )
        with self.session.begin() as s:
            first = int(s.scalar(select(func.coalesce(func.max(t.c.id), 0))) or 0) + 1
            conn = s.connection()
            for i in range(0, len(hashes), 50_000):
                # The driver's executemany: no per-row statement objects (10M-row lists).
                conn.exec_driver_sql(
                    sql,
                    [(bank_id, h, category, source_list, added) for h in hashes[i : i + 50_000]],
                )
            ids = list(s.scalars(select(t.c.id).where(t.c.id >= first, t.c.bank_id == bank_id)))
            self._log(s, "add", ids, bank_id)
        return len(hashes)

    def iter_video_rows(self, *, chunk: int = 10_000) -> Iterator[list[IndexRow]]:
        """Live entries that carry vPDQ frames (a snapshot load re-reads these)."""
        t = PlatformEntry.__table__
        last = 0
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(t.c.id, t.c.bank_id, t.c.md5, t.c.sha1, t.c.sha256, t.c.pdq, t.c.vpdq)
                    .where(t.c.id > last, t.c.removed_at.is_(None), t.c.vpdq.is_not(None))
                    .order_by(t.c.id)
                    .limit(chunk)
                ).all()
                if not rows:
                    return
                last = rows[-1][0]
                videos = [IndexRow(*r) for r in rows if r[6]]
                if videos:
                    yield videos

    def index_rows_in_runs(
        self, runs: Sequence[tuple[int, int]], *, live_only: bool
    ) -> Iterator[list[IndexRow]]:
        """Entries whose ids fall in the inclusive runs, in windows of 50,000 ids. A removal
        reads removed entries too (their hashes say what to drop from exact tables)."""
        cols = (
            PlatformEntry.id,
            PlatformEntry.bank_id,
            PlatformEntry.md5,
            PlatformEntry.sha1,
            PlatformEntry.sha256,
            PlatformEntry.pdq,
            PlatformEntry.vpdq,
        )
        window = 50_000
        with self.engine.connect() as conn:
            for first, last in runs:
                for a in range(first, last + 1, window):
                    b = min(last, a + window - 1)
                    q = select(*cols).where(PlatformEntry.id.between(a, b))
                    if live_only:
                        q = q.where(PlatformEntry.removed_at.is_(None))
                    rows = conn.execute(q).all()
                    if rows:
                        yield [IndexRow(*r) for r in rows]

    # -- change feed -------------------------------------------------------------------

    def max_change_seq(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.max(PlatformIndexChange.seq))) or 0)

    def changes_since(
        self, seq: int, also: Iterable[int] = (), limit: int = 10_000
    ) -> list[IndexChange]:
        """Changes after `seq`, plus specific older seqs still awaited (gaps left by
        transactions that had not committed when a later one was read)."""
        extra = list(also)
        with self.session() as s:
            cond = PlatformIndexChange.seq > seq
            if extra:
                cond = or_(cond, PlatformIndexChange.seq.in_(extra))
            rows = s.scalars(
                select(PlatformIndexChange)
                .where(cond)
                .order_by(PlatformIndexChange.seq)
                .limit(limit)
            )
            return [IndexChange(c.seq, c.op, c.first_id, c.last_id, c.bank_id) for c in rows]

    # -- API keys ----------------------------------------------------------------------

    def create_key(
        self,
        *,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: Iterable[str],
        rate_per_s: float,
        burst: int,
        actor: str | None = None,
    ) -> ApiKeyRecord:
        with self.session.begin() as s:
            k = PlatformApiKey(
                name=name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=",".join(sorted(set(scopes))),
                rate_per_s=rate_per_s,
                burst=burst,
                created_at=now(),
            )
            s.add(k)
            s.flush()
            platform_audit.append(
                s,
                "key.create",
                actor=actor,
                object_type="api_key",
                object_id=k.id,
                detail={"name": name, "prefix": prefix, "scopes": k.scopes.split(",")},
            )
            return _key(k)

    def key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        with self.session() as s:
            k = s.scalar(select(PlatformApiKey).where(PlatformApiKey.key_hash == key_hash))
            return _key(k) if k else None

    def list_keys(self) -> list[ApiKeyRecord]:
        with self.session() as s:
            return [_key(k) for k in s.scalars(select(PlatformApiKey).order_by(PlatformApiKey.id))]

    def revoke_key(self, ident: str, *, actor: str | None = None) -> int:
        """Revoke keys by id, name or visible prefix; returns how many were revoked (each
        one audited as `key.revoke`)."""
        with self.session.begin() as s:
            cond = or_(PlatformApiKey.name == ident, PlatformApiKey.prefix == ident)
            if ident.isdigit():
                cond = or_(cond, PlatformApiKey.id == int(ident))
            keys = list(
                s.scalars(
                    select(PlatformApiKey)
                    .where(cond, PlatformApiKey.revoked_at.is_(None))
                    .with_for_update()
                )
            )
            at = now()
            for k in keys:
                k.revoked_at = at
                platform_audit.append(
                    s,
                    "key.revoke",
                    actor=actor,
                    object_type="api_key",
                    object_id=k.id,
                    detail={"name": k.name, "prefix": k.prefix},
                )
            return len(keys)


def _entry(e: PlatformEntry, bank_name: str) -> EntryRecord:
    return EntryRecord(
        id=e.id,
        bank_id=e.bank_id,
        bank_name=bank_name,
        md5=e.md5,
        sha1=e.sha1,
        sha256=e.sha256,
        pdq=e.pdq,
        vpdq=e.vpdq,
        photodna=e.photodna,
        category=e.category,
        source_category=e.source_category,
        source_list=e.source_list,
        original_id=e.original_id,
        added_at=utc(e.added_at),  # type: ignore[arg-type]
        source_added_at=utc(e.source_added_at),
        meta=e.meta,
        removed_at=utc(e.removed_at),
    )
