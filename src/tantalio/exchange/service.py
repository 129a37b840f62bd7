"""`ExchangeService`: push, retract, query, changes, series links, lists — with the audit.

One process serves the exchange; its indexes live in memory (index.py) and are rebuilt from
the database on start. Writes (push, retraction, publication) take one lock, so the database,
the change feed and the in-memory indexes move together; queries never wait for it.

Fan-out on write: when a record is created, changed or retracted, the exchange looks up which
other agencies hold the same media (exact or PDQ) or queried it, writes one change-feed row
per such agency, and stores record pairs across agencies (the ground of series links). A
sync then reads its own rows with one indexed range scan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tantalio.exchange import auth, records, snapshot
from tantalio.exchange.config import ExchangeConfig, default_index_dir, default_signing_key
from tantalio.exchange.index import EXACT, ExchangeIndex, agency_of, is_watch, record_of
from tantalio.exchange.records import BadInput, QueryIn
from tantalio.exchange.signing import load_or_create, public_pem
from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.store.exchange import AgencyExists, ExchangeStore, IndexRow, KeyRow
from tantalio.store.exchange import audit as audit_log

log = logging.getLogger("tantalio.exchange")
MATCH_ORDER = {"sha256": 0, "sha1": 1, "md5": 2, "pdq": 3, "vpdq": 4}


class Refused(Exception):
    """A request refused as a whole: HTTP status, error code, a sentence without hashes."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(slots=True)
class Caller:
    key: KeyRow
    ip: str | None = None


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ExchangeService:
    def __init__(self, config: ExchangeConfig | None = None) -> None:
        self.config = config or ExchangeConfig()
        self.store = ExchangeStore(self.config.db_url)
        self.keyring = auth.KeyRing(self.store, self.config.key_cache_ttl_s)
        self.index = ExchangeIndex(self.config.rules)
        self._write = threading.Lock()
        self._signing_key: Any = None
        self._rate_noted: dict[int, tuple[float, int]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._bulk_at = 0.0  # monotonic time of the last bulk push (deferred fan-out)
        self._queued_at: float | None = None  # when the queue last became non-empty
        self.ready = False
        self._saver: threading.Thread | None = None
        self._saved: snapshot.Marks | None = None  # what the snapshot on disk has seen
        self.index_source = "none"  # "snapshot" or "rebuilt" once started
        self.index_load_s = 0.0  # seconds start() took to fill the index

    @property
    def signing_key_path(self) -> str:
        return str(self.config.signing_key or default_signing_key(self.config.db_url))

    def signing_key(self) -> Any:
        if self._signing_key is None:
            self._signing_key = load_or_create(self.signing_key_path)
        return self._signing_key

    @property
    def index_dir(self) -> Path | None:
        if self.config.index_dir is not None:
            return Path(self.config.index_dir) if self.config.index_dir else None
        return default_index_dir(self.config.db_url)

    def start(self, background: bool = True) -> None:
        """Load every live record (from the index snapshot plus what changed after it, else
        from the database) and every watch into memory; with `background`, start the worker
        that drains deferred PDQ fan-out (left over from before a restart too) and, after a
        rebuild or a replay, save a fresh snapshot."""
        t0 = time.perf_counter()
        replayed = self._load_records()
        for rows in self.store.iter_watches():
            self.index.add_watches(rows)
        self.index.flush_watches()
        self.index_load_s = time.perf_counter() - t0
        log.info(
            "exchange index ready in %.1f s (%s; %d records with PDQ)",
            self.index_load_s,
            self.index_source,
            len(self.index.pdq),
        )
        self.ready = True
        if background:
            self._worker = threading.Thread(
                target=self._fanout_loop, name="exchange-fanout", daemon=True
            )
            self._worker.start()
            if self.index_dir is not None and (self.index_source == "rebuilt" or replayed):
                self._saver = threading.Thread(
                    target=self._save_quietly, name="exchange-snapshot", daemon=True
                )
                self._saver.start()

    def _load_records(self) -> int:
        """Records into the index; returns how many were replayed after a snapshot."""
        store = self.store
        database_id = store.database_id()
        record_id, log_seq = store.index_marks()
        path = self.index_dir
        if path is not None:
            t0 = time.perf_counter()
            try:
                index, marks = snapshot.load(
                    path,
                    self.config.rules,
                    database_id,
                    record_id,
                    log_seq,
                    store.index_log_pruned(),
                )
            except snapshot.SnapshotRefused as exc:
                log.warning("exchange index snapshot not used: %s; rebuilding", exc.reason)
            else:
                loaded = time.perf_counter() - t0
                self.index = index
                new = sum(index.add_arrays(c) for c in store.iter_index_arrays(marks.record_id))
                changed = [
                    (rid, agency)
                    for rid, agency in store.index_log_since(marks.log_seq)
                    if rid <= marks.record_id
                ]
                if changed:
                    index.remove(
                        [IndexRow(r, a, None, None, None, None, None, None) for r, a in changed]
                    )
                    index.add(store.index_rows([r for r, _ in changed]))
                self.index_source = "snapshot"
                self._saved = marks
                log.info(
                    "exchange index snapshot %s loaded in %.1f s; replayed %d new and %d "
                    "changed records in %.1f s",
                    path,
                    loaded,
                    new,
                    len(changed),
                    time.perf_counter() - t0 - loaded,
                )
                return new + len(changed)
        try:
            self.index.bulk_load_arrays(store.iter_index_arrays())
        except ValueError as exc:
            log.warning("exchange index: fast read refused (%s); reading rows one by one", exc)
            self.index = ExchangeIndex(self.config.rules)
            self.index.bulk_load(store.iter_index_columns())
        self.index_source = "rebuilt"
        return 0

    def save_snapshot(self) -> snapshot.Marks | None:
        """Save the record indexes beside the database, tagged with the marks they have
        seen, then prune the index log up to them. Writes wait meanwhile; queries do not."""
        path = self.index_dir
        if path is None:
            return None
        with self._write:
            record_id, log_seq = self.store.index_marks()
            marks = snapshot.Marks(self.store.database_id(), record_id, log_seq)
            if marks == self._saved:
                return marks
            t0 = time.perf_counter()
            snapshot.save(self.index, path, marks)
            self._saved = marks
        self.store.prune_index_log(marks.log_seq)
        log.info("exchange index snapshot saved to %s in %.1f s", path, time.perf_counter() - t0)
        return marks

    def _save_quietly(self) -> None:
        try:
            self.save_snapshot()
        except Exception:  # a full disk must not take the server down; next start rebuilds
            log.exception("exchange index snapshot not saved")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._saver is not None:
            self._saver.join()
        if self.ready:
            self._save_quietly()
        self.store.close()

    def _fanout_loop(self) -> None:
        cfg = self.config
        while not self._stop.is_set():
            now = time.monotonic()
            quiet = now - self._bulk_at
            waited = now - (self._queued_at or now)
            paused = quiet >= cfg.fanout_idle_s
            if not paused and waited < cfg.fanout_max_wait_s:
                self._wake.wait(timeout=cfg.fanout_idle_s - quiet)
                self._wake.clear()
                continue
            try:
                # Compaction holds the index's writers; only in a pause between pushes.
                done = self.drain_fanout(compact=paused)
                if not done:
                    self._queued_at = None
            except Exception:  # a database hiccup: try again on the next round
                log.exception("deferred fan-out failed; retrying")
                done = 0
            if not done:
                self._wake.wait(timeout=1.0)
                self._wake.clear()

    def drain_fanout(self, compact: bool = True) -> int:
        """One batch of deferred PDQ fan-out; returns how many records it handled. The
        search runs without the write lock (index reads never block); with `compact`, a
        fragmented PDQ index is compacted first."""
        rows = self.store.next_fanout(self.config.fanout_batch)
        if not rows:
            return 0
        if compact and self.index.fragmented():
            # The pushes that queued these left small PDQ segments behind; one segment
            # first makes the search of every queued hash (and later queries) cheaper.
            with self._write:
                self.index.compact()
        changes, pairs = self._fan_out(rows, retracted=False, exact=False)
        with self._write, self.store.transaction() as s:
            self.store.add_changes(s, changes)
            self.store.add_pairs(s, pairs)
            self.store.done_fanout(s, [r.id for r in rows])
        return len(rows)

    # -- audit -------------------------------------------------------------------------

    def refuse(
        self, key: KeyRow | None, action: str, status: int, path: str, ip: str | None
    ) -> None:
        """Audit a refused request (401/403/413/400...). Rate-limit refusals are noted once
        per agency per interval with the count of refused requests."""
        if status == 429 and key is not None:
            now = time.monotonic()
            since, count = self._rate_noted.get(key.agency_id, (0.0, 0))
            if now - since < self.config.rate_audit_interval_s:
                self._rate_noted[key.agency_id] = (since, count + 1)
                return
            self._rate_noted[key.agency_id] = (now, 0)
            detail: dict[str, Any] = {"path": path, "status": status, "refused_since_last": count}
        else:
            detail = {"path": path, "status": status}
        with self.store.transaction() as s:
            audit_log.append(
                s,
                f"refused.{action}",
                agency=key.agency if key else None,
                key_id=key.id if key else None,
                detail=detail,
                ip=ip,
            )

    # -- records -----------------------------------------------------------------------

    def push(self, caller: Caller, raw: object) -> dict[str, Any]:
        items = self._batch(raw, "records")
        parsed, refused = records.parse_records(items)
        agency = caller.key.agency_id
        with self._write:
            with self.store.transaction() as s:
                created, updated, before, unchanged = self.store.upsert_records(s, agency, parsed)
                changed = created + updated
                defer = len(changed) > self.config.fanout_sync_max
                changes, pairs = self._fan_out(changed, retracted=False, pdq=not defer)
                if defer:
                    self.store.queue_fanout(s, [r.id for r in changed])
                self.store.add_changes(s, changes)
                self.store.add_pairs(s, pairs)
                audit_log.append(
                    s,
                    "records.push",
                    agency=caller.key.agency,
                    key_id=caller.key.id,
                    detail={
                        "records": len(items),
                        "created": len(created),
                        "updated": len(updated),
                        "unchanged": unchanged,
                        "refused": len(refused),
                        "changes": len(changes),
                        "deferred_fanout": len(changed) if defer else 0,
                    },
                    ip=caller.ip,
                )
            self.index.replace(before, changed, bulk=defer)
        if defer:
            self._bulk_at = time.monotonic()
            if self._queued_at is None:
                self._queued_at = self._bulk_at
            self._wake.set()
        return {
            "accepted": len(parsed),
            "created": len(created),
            "updated": len(updated),
            "unchanged": unchanged,
            "refused": refused,
        }

    def retract(self, caller: Caller, raw: object) -> dict[str, Any]:
        items = self._batch(raw, "records")
        identities = []
        for i, item in enumerate(items):
            try:
                identities.append(records.parse_retraction(item))
            except BadInput as exc:
                raise Refused(400, "bad_retraction", f"retraction {i}: {exc}") from None
        agency = caller.key.agency_id
        with self._write:
            with self.store.transaction() as s:
                rows = self.store.retract(s, agency, identities)
                gone = {f"{k}:{getattr(r, k)}" for r in rows for k in records.IDENTITY_ORDER}
                missing = [i for i in dict.fromkeys(identities) if i not in gone]
                elsewhere = self.store.identities_elsewhere(s, agency, missing) if missing else 0
                changes, _ = self._fan_out(rows, retracted=True)
                self.store.add_changes(s, changes)
                audit_log.append(
                    s,
                    "records.retract",
                    agency=caller.key.agency,
                    key_id=caller.key.id,
                    detail={
                        "requested": len(items),
                        "retracted": len(rows),
                        "not_found": len(missing),
                        "held_by_other_agencies": elsewhere,
                        "changes": len(changes),
                    },
                    ip=caller.ip,
                )
            self.index.remove(rows)
        return {"retracted": len(rows), "not_found": len(missing)}

    def _fan_out(
        self, rows: Sequence[IndexRow], *, retracted: bool, exact: bool = True, pdq: bool = True
    ) -> tuple[list[tuple[int, int, dict[str, Any]]], dict[tuple[int, int], tuple[str, int]]]:
        """For changed records: feed rows for every other agency that holds or watches the
        same media, and record pairs across agencies (for series links)."""
        if not rows:
            return [], {}
        # (recipient agency, changed record) -> (order, info)
        found: dict[tuple[int, int], tuple[int, dict[str, Any]]] = {}
        pairs: dict[tuple[int, int], tuple[str, int]] = {}

        def note(agency: int, row: IndexRow, kind: str, value: str, distance: int) -> None:
            if agency == row.agency_id:
                return
            key = (agency, row.id)
            rank = MATCH_ORDER[kind] * 1000 + distance
            if key not in found or rank < found[key][0]:
                info = {"watched": {kind: value}, "match": kind, "distance": distance}
                found[key] = (rank, info)

        for algo in EXACT if exact else ():
            sel = [r for r in rows if getattr(r, algo)]
            values = [getattr(r, algo) for r in sel]
            qi, codes = self.index.search_exact(algo, values, watches=True)
            for q, code in zip(qi.tolist(), codes.tolist(), strict=True):
                row = sel[q]
                note(agency_of(code), row, algo, values[q], 0)
                if not is_watch(code) and agency_of(code) != row.agency_id:
                    other = record_of(code)
                    pairs.setdefault((min(row.id, other), max(row.id, other)), (algo, 0))
        rules = self.config.rules
        sel = [r for r in rows if pdq and r.pdq and rules.pdq_usable(r.pdq_quality)]
        q, codes, dist = self.index.search_pdq([r.pdq for r in sel], watches=True)  # type: ignore[misc]
        for qn, code, d in zip(q.tolist(), codes.tolist(), dist.tolist(), strict=True):
            row = sel[qn]
            if agency_of(code) == row.agency_id:
                continue
            note(agency_of(code), row, "pdq", self.index.pdq_of(code) or "", d)
            if not is_watch(code):
                other = record_of(code)
                pairs.setdefault((min(row.id, other), max(row.id, other)), ("pdq", d))
        changes = []
        for (agency, record_id), (_, info) in sorted(found.items()):
            if retracted:
                info["retracted"] = True
            changes.append((agency, record_id, info))
        return changes, pairs

    # -- queries -----------------------------------------------------------------------

    def query(self, caller: Caller, raw: object, orientations: bool = True) -> dict[str, Any]:
        items = self._batch(raw, "queries")
        parsed: list[QueryIn] = []
        for i, item in enumerate(items):
            try:
                parsed.append(records.parse_query(item))
            except BadInput as exc:
                raise Refused(400, "bad_query", f"query {i}: {exc}") from None
        me = caller.key.agency_id
        rules = self.config.rules
        # per query: record id -> (rank, match, distance)
        best: list[dict[int, tuple[int, str, int]]] = [{} for _ in parsed]

        def keep(qn: int, code: int, kind: str, distance: int) -> None:
            if agency_of(code) == me or is_watch(code):
                return
            rid = record_of(code)
            rank = MATCH_ORDER[kind] * 1000 + distance
            if rid not in best[qn] or rank < best[qn][rid][0]:
                best[qn][rid] = (rank, kind, distance)

        watch: list[tuple[int, str, str]] = []
        for algo in EXACT:
            sel = [i for i, q in enumerate(parsed) if getattr(q, algo)]
            values = [getattr(parsed[i], algo) for i in sel]
            watch.extend((me, algo, v) for v in values)
            qi, codes = self.index.search_exact(algo, values)
            for qn, code in zip(qi.tolist(), codes.tolist(), strict=True):
                keep(sel[qn], code, algo, 0)
        owner: list[int] = []
        hashes: list[str] = []
        for i, q in enumerate(parsed):
            if q.pdq:
                watch.append((me, "pdq", q.pdq))
            if not rules.pdq_usable(q.pdq_quality):
                continue
            group = [q.pdq] if q.pdq else []
            if orientations:
                group += [h for h in q.pdq_orientations if h != q.pdq]
            owner.extend([i] * len(group))
            hashes.extend(group)  # type: ignore[arg-type]
        if hashes:
            qn_arr, codes, dist = self.index.search_pdq(hashes)
            owners = np.asarray(owner, dtype=np.int64)[qn_arr]
            for qn, code, d in zip(owners.tolist(), codes.tolist(), dist.tolist(), strict=True):
                keep(qn, code, "pdq", d)
        for i, q in enumerate(parsed):
            if q.vpdq:
                for code, d in self.index.search_vpdq(q.vpdq):
                    keep(i, code, "vpdq", d)
        matched = {rid for per in best for rid in per}
        watch, watch_codes = self.index.unwatched_codes(watch)
        with self.store.transaction() as s:
            views = self.store.record_views(s, matched) if matched else {}
            self.store.add_watches(s, watch)
            audit_log.append(
                s,
                "query",
                agency=caller.key.agency,
                key_id=caller.key.id,
                detail={
                    "queries": len(parsed),
                    "matched_queries": sum(1 for per in best if per),
                    "matches": sum(len(per) for per in best),
                },
                ip=caller.ip,
            )
        self.index.add_watches(watch, watch_codes)
        results = []
        for q, per in zip(parsed, best, strict=True):
            matches = []
            for rid, (_, kind, distance) in sorted(per.items(), key=lambda kv: kv[1][0]):
                view = views.get(rid)
                if view is None or view["retracted"]:
                    continue
                matches.append(self._match(view, kind, distance))
            results.append({"id": q.ref, "matches": matches})
        return {"results": results}

    @staticmethod
    def _match(view: dict[str, Any], kind: str, distance: int) -> dict[str, Any]:
        """What another agency sees: the contract's fields, never case content."""
        out = {
            "agency": view["agency"],
            "country": view["country"],
            "contact": view["contact"],
            "series": view["series"],
            "status": view["status"],
            "victim_identified": view["victim_identified"],
            "offender_identified": view["offender_identified"],
            "category": view["category"],
            "match": kind,
            "distance": distance,
            "first_seen": view["first_seen"],
            "last_seen": view["last_seen"],
            "updated_at": _iso(view["updated_at"]),
        }
        if view.get("shared"):
            out["shared"] = view["shared"]
        return out

    def changes(self, caller: Caller, since: int, limit: int) -> dict[str, Any]:
        if since < 0 or limit < 1:
            raise Refused(400, "bad_request", "since must be >= 0 and limit >= 1")
        limit = min(limit, self.config.max_changes_page)
        with self.store.session() as s:
            rows = self.store.changes(s, caller.key.agency_id, since, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            views = self.store.record_views(s, [r[1] for r in rows])
        out = []
        for seq, record_id, info in rows:
            view = views.get(record_id)
            if view is None:
                continue
            match = self._match(view, info["match"], info["distance"])
            match["retracted"] = bool(view["retracted"] or info.get("retracted"))
            out.append({"seq": seq, "watched": info["watched"], "match": match})
        last = rows[-1][0] if rows else since
        return {"changes": out, "last_seq": last, "more": more}

    def series_links(self, caller: Caller) -> dict[str, Any]:
        with self.store.session() as s:
            return {"links": self.store.series_links(s, caller.key.agency_id)}

    def status(self, caller: Caller) -> dict[str, Any]:
        return {
            "exchange": self.config.issuer,
            "agency": caller.key.agency,
            "country": caller.key.country,
            "scopes": sorted(caller.key.scopes),
            "ready": self.ready,
            "index": {
                "source": self.index_source,
                "load_s": round(self.index_load_s, 3),
                "snapshot_saved": self._saved is not None,
            },
            "pending_fanout": self.store.pending_fanout(),
        }

    # -- lists -------------------------------------------------------------------------

    def create_list(
        self,
        name: str,
        category: int,
        min_agencies: int,
        description: str | None = None,
        caller: Caller | None = None,
    ) -> dict[str, Any]:
        name = (name or "").strip()
        if not name or len(name) > 128 or "/" in name:
            raise Refused(400, "bad_list", "a list name is 1-128 characters without '/'")
        if not isinstance(category, int) or not 0 <= category <= 4:
            raise Refused(400, "bad_list", "rule.category must be a Project VIC code 0-4")
        if not isinstance(min_agencies, int) or min_agencies < 1:
            raise Refused(400, "bad_list", "rule.min_agencies must be an integer >= 1")
        with self.store.transaction() as s:
            try:
                self.store.create_list(s, name, description, category, min_agencies)
            except AgencyExists:
                raise Refused(409, "list_exists", f"list {name!r} exists") from None
            audit_log.append(
                s,
                "list.create",
                agency=caller.key.agency if caller else None,
                key_id=caller.key.id if caller else None,
                object_type="list",
                object_id=name,
                detail={"category": category, "min_agencies": min_agencies},
                ip=caller.ip if caller else None,
            )
        return {"list": name, "rule": {"category": category, "min_agencies": min_agencies}}

    def publish(self, name: str, caller: Caller | None = None) -> dict[str, Any]:
        """Sign the next delta of list `name`: entries newly agreed by its rule are added,
        entries no longer agreed (retracted, recategorised, fewer agencies) retracted."""
        key = self.signing_key()
        with self._write, self.store.transaction() as s:
            lst = self.store.get_list(s, name, lock=True)
            if lst is None:
                raise Refused(404, "no_list", f"no list {name!r}")
            current = self.store.agreed(s, lst.category, lst.min_agencies)
            before = self.store.list_entries(s, lst.id)
            add = {i: e for i, e in current.items() if before.get(i) != e}
            retract = [i for i in before if i not in current]
            stamp = datetime.now(UTC)
            payload = deltas.build_payload(
                lst.name,
                self.config.issuer,
                lst.last_seq + 1,
                lst.last_digest,
                [HashEntry(**e) for e in add.values()],
                [_hashes_only(before[i]) for i in retract],
                created=stamp,
                expires=stamp + timedelta(days=self.config.delta_validity_days),
            )
            document = deltas.sign_payload(payload, key).decode("utf-8")
            seq = lst.last_seq + 1
            self.store.save_delta(
                s, lst, seq, deltas.payload_digest(payload), document, add, retract
            )
            audit_log.append(
                s,
                "list.publish",
                agency=caller.key.agency if caller else None,
                key_id=caller.key.id if caller else None,
                object_type="list",
                object_id=name,
                detail={"seq": seq, "added": len(add), "retracted": len(retract)},
                ip=caller.ip if caller else None,
            )
        return {"seq": seq, "added": len(add), "retracted": len(retract)}

    def list_deltas(self, name: str, after: int, limit: int = 1000) -> dict[str, Any]:
        if after < 0:
            raise Refused(400, "bad_request", "after must be >= 0")
        with self.store.session() as s:
            lst = self.store.get_list(s, name)
            if lst is None:
                raise Refused(404, "no_list", f"no list {name!r}")
            docs = self.store.deltas_after(s, lst.id, after, limit + 1)
        return {
            "list": name,
            "public_key": public_pem(self.signing_key()),
            "deltas": docs[:limit],
            "more": len(docs) > limit,
        }

    def list_key(self, name: str) -> dict[str, Any]:
        from tantalio.hashsets.signed import key_id

        with self.store.session() as s:
            if self.store.get_list(s, name) is None:
                raise Refused(404, "no_list", f"no list {name!r}")
        key = self.signing_key()
        return {"list": name, "public_key": public_pem(key), "key_id": key_id(key.public_key())}

    # -- helpers -----------------------------------------------------------------------

    def _batch(self, raw: object, name: str) -> list[Any]:
        if not isinstance(raw, dict) or not isinstance(raw.get(name), list):
            raise Refused(400, "bad_request", f"the body must be {{{name!r}: [...]}}")
        items = raw[name]
        if len(items) > self.config.max_batch:
            raise Refused(
                413, "batch_too_large", f"at most {self.config.max_batch} {name} per request"
            )
        return list(items)


def _hashes_only(entry: dict[str, Any]) -> HashEntry:
    return HashEntry(**{k: v for k, v in entry.items() if k in ("sha256", "sha1", "md5", "pdq")})
