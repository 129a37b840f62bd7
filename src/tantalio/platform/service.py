"""`PlatformService`: banks, matching, and what follows a match, for both APIs and the CLI.

Routers stay thin: they parse a request, call one method here, and shape the answer.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tantalio.fingerprint.record import Fingerprint
from tantalio.hashsets.record import HashEntry
from tantalio.platform import signals as sig
from tantalio.platform import snapshot
from tantalio.platform.actions import ActionEngine
from tantalio.platform.batcher import PDQBatcher
from tantalio.platform.config import PlatformConfig
from tantalio.platform.matchindex import BANK_BITS, BANK_MASK, MAX_BANKS, MatchIndex
from tantalio.platform.sync import IndexSync
from tantalio.signals import MatchRules
from tantalio.signals.lookup import Query, SignalMatch, lookup
from tantalio.signals.rules import RULE_EXACT, RULE_VPDQ_INDEX, RULE_VPDQ_QUERY
from tantalio.signals.vpdq import unique_pdqs
from tantalio.store.platform import BankExists, PlatformStore
from tantalio.store.platform.records import BankRecord, EntryRecord, MatchEventRecord, NewEntry

log = logging.getLogger(__name__)
BANK_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Match:
    entry_id: int
    bank: BankRecord
    signal_type: str
    distance: int
    rule: str = RULE_EXACT  # signals.rules.RULES: which rule fired
    orientation: str | None = None  # the query orientation that matched (PDQ)
    query_share: float | None = None  # vPDQ: share of the query's unique frames matched
    index_share: float | None = None  # vPDQ: share of the bank video's unique frames matched


class _Indexes:
    """The service's `MatchIndex` as the one lookup's `Indexes` (refs: encoded ids).
    `prefetched`: PDQ hits of a batched search, answered instead of searching again."""

    def __init__(
        self, index: MatchIndex, prefetched: list[list[tuple[int, int]]] | None = None
    ) -> None:
        self.index = index
        self.prefetched = prefetched

    def exact(self, column: str, value: str) -> list[int]:
        return self.index.exact.lookup([value], column)[0]

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        if self.prefetched is not None and len(hashes) == len(self.prefetched):
            return self.prefetched
        return self.index.pdq.search(list(hashes), radius)

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        return self.index.search_frames(hashes, radius)

    def frame_count(self, ref: int) -> int:
        return self.index.frame_count(ref)


class PlatformService:
    def __init__(
        self,
        config: PlatformConfig | None = None,
        store: PlatformStore | None = None,
        *,
        indexing: bool = True,
    ) -> None:
        self.config = config or PlatformConfig()
        self.store = store or PlatformStore(self.config.db_url)
        self.rules: MatchRules = self.config.rules
        self.index = MatchIndex(min_quality=self.rules.min_quality)
        self.sync = IndexSync(self.store, self.index)
        self.sync.on_refresh.append(self.reload_banks)
        self.actions = ActionEngine(self.store, self.config)
        self.batcher = PDQBatcher(self.index, self._radius)
        self._banks: dict[int, BankRecord] = {}
        self._by_name: dict[str, BankRecord] = {}
        self.ready = False
        self.loaded_from = ""
        self._snap_seq = 0
        self._snap_at = 0.0
        # False for command-line curation: writes go to the database only, and serving
        # processes pick them up from the change feed.
        self.indexing = indexing

    # -- life cycle --------------------------------------------------------------------

    def start(self, *, background: bool = True) -> None:
        self.reload_banks()
        snap_dir = Path(self.config.index_dir) if self.config.index_dir else None
        if snap_dir is not None and snapshot.load(self, snap_dir):
            self.loaded_from = "snapshot"
            self.sync.refresh()
            self._snap_seq = self.sync.last_seq
        else:
            self.sync.full_load()
            self.loaded_from = "database"
            self._snap_seq = -1  # the follower writes the first snapshot once serving
        self._snap_at = 0.0 if self._snap_seq < 0 else time.monotonic()
        if snap_dir is not None:
            self.sync.on_refresh.append(self._maybe_snapshot)
        self.ready = True
        if background:
            self.sync.start(self.config.poll_interval_s)
            if self.config.run_workers:
                self.actions.start()

    def _maybe_snapshot(self) -> None:
        # Only the follower thread saves: a request that wrote must not wait for a snapshot.
        if threading.current_thread().name != "platform-index-sync":
            return
        due = time.monotonic() - self._snap_at >= self.config.snapshot_interval_s
        if due and self.sync.last_seq != self._snap_seq and self.config.index_dir:
            self.save_snapshot()

    def save_snapshot(self) -> None:
        if self.config.index_dir:
            snapshot.save(self, Path(self.config.index_dir))
            self._snap_seq = self.sync.last_seq
            self._snap_at = time.monotonic()

    def close(self) -> None:
        self.sync.stop()
        self.actions.stop()
        if self.ready and self.config.index_dir and self.sync.last_seq != self._snap_seq:
            try:
                self.save_snapshot()
            except OSError:
                log.exception("could not write the index snapshot at shutdown")
        self.store.close()

    def _changed(self) -> None:
        if self.indexing:
            self.sync.refresh()
        else:
            self.reload_banks()

    # -- banks -------------------------------------------------------------------------

    def reload_banks(self) -> None:
        banks = self.store.banks_by_id()
        self._banks = banks
        self._by_name = {b.name: b for b in banks.values()}

    def bank(self, name: str) -> BankRecord:
        b = self._by_name.get(name) or self.store.get_bank(name)
        if b is None:
            raise NotFound(f"bank {name!r} not found")
        return b

    def list_banks(self) -> list[BankRecord]:
        self.reload_banks()
        return sorted(self._banks.values(), key=lambda b: b.id)

    def create_bank(
        self,
        name: str,
        *,
        enabled: bool = True,
        enabled_ratio: float | None = None,
        pdq_threshold: int | None = None,
        description: str | None = None,
    ) -> BankRecord:
        if not BANK_NAME.match(name):
            raise Invalid("bank name must be 1-128 of A-Z a-z 0-9 _ . - (not starting with . or -)")
        ratio = 1.0 if enabled_ratio is None else float(enabled_ratio)
        if not 0.0 <= ratio <= 1.0:
            raise Invalid("enabled_ratio must be between 0.0 and 1.0")
        threshold = self._threshold(pdq_threshold)
        if len(self.store.banks_by_id(include_deleted=True)) >= MAX_BANKS:
            raise Invalid(f"at most {MAX_BANKS} banks")
        try:
            b = self.store.create_bank(
                name,
                enabled=enabled and ratio > 0,
                enabled_ratio=ratio,
                pdq_threshold=threshold,
                description=description,
            )
        except BankExists as exc:
            raise Invalid(str(exc)) from None
        self.reload_banks()
        return b

    def _threshold(self, value: int | None) -> int:
        if value is None:
            return self.rules.pdq_threshold
        if not 0 <= int(value) <= self.config.max_pdq_threshold:
            raise Invalid(f"pdq_threshold must be between 0 and {self.config.max_pdq_threshold}")
        return int(value)

    def update_bank(self, bank_name: str, **fields: Any) -> BankRecord:
        fields = {k: v for k, v in fields.items() if v is not None}
        if "name" in fields and not BANK_NAME.match(fields["name"]):
            raise Invalid("invalid bank name")
        if "pdq_threshold" in fields:
            fields["pdq_threshold"] = self._threshold(fields["pdq_threshold"])
        if "enabled_ratio" in fields:
            ratio = float(fields["enabled_ratio"])
            if not 0.0 <= ratio <= 1.0:
                raise Invalid("enabled_ratio must be between 0.0 and 1.0")
            fields.setdefault("enabled", ratio > 0)
        elif "enabled" in fields:
            fields["enabled_ratio"] = 1.0 if fields["enabled"] else 0.0
        try:
            b = self.store.update_bank(bank_name, **fields)
        except BankExists as exc:
            raise Invalid(str(exc)) from None
        if b is None:
            raise NotFound(f"bank {bank_name!r} not found")
        self.reload_banks()
        return b

    def delete_bank(self, name: str) -> bool:
        gone = self.store.delete_bank(name)
        self._changed()
        return gone

    # -- entries -----------------------------------------------------------------------

    def add_entries(self, bank_name: str, entries: Iterable[NewEntry]) -> list[int]:
        bank = self.bank(bank_name)
        ids = self.store.add_entries(bank.id, entries)
        self._changed()
        return ids

    def add_signals(
        self,
        bank_name: str,
        signals: dict[str, str],
        *,
        meta: dict[str, Any] | None = None,
        category: int | None = None,
        source_list: str | None = None,
        original_id: str | None = None,
    ) -> tuple[int, dict[str, str]]:
        """Add one piece of content known by its signals (HMA's `/c/bank/<b>/signal`)."""
        if not signals:
            raise Invalid("no signals given")
        clean: dict[str, str] = {}
        for name, value in signals.items():
            if not isinstance(value, str):
                raise Invalid(f"signal {name!r} must be a string")
            try:
                clean[name] = sig.normalize(name, value)
            except sig.SignalError as exc:
                raise Invalid(str(exc)) from None
        frames = self._vpdq_frames(signals[sig.VPDQ]) if sig.VPDQ in clean else None
        if sig.VPDQ in clean and frames is None:
            raise Invalid(f"vpdq signal has no frame of quality >= {self.rules.min_quality}")
        entry = NewEntry(
            md5=clean.get(sig.MD5) or clean.get(sig.VIDEO_MD5),
            sha1=clean.get(sig.SHA1),
            sha256=clean.get(sig.SHA256),
            pdq=clean.get(sig.PDQ),
            vpdq=frames,
            category=category,
            source_list=source_list,
            original_id=original_id,
            meta=meta,
        )
        [entry_id] = self.add_entries(bank_name, [entry])
        return entry_id, clean

    def add_fingerprint(
        self,
        bank_name: str,
        fp: Fingerprint,
        *,
        meta: dict[str, Any] | None = None,
        category: int | None = None,
        source_list: str | None = None,
    ) -> int:
        if fp.error and not fp.pdq and not fp.frames:
            log.info("banking %s bytes with cryptographic hashes only (%s)", fp.size, fp.error)
        entry = NewEntry(
            md5=fp.md5,
            sha1=fp.sha1,
            sha256=fp.sha256,
            pdq=fp.pdq,
            vpdq=self._vpdq_frames([(f.pdq, f.quality, f.timestamp) for f in fp.frames])
            if fp.frames
            else None,
            category=category,
            source_list=source_list,
            meta=meta,
        )
        [entry_id] = self.add_entries(bank_name, [entry])
        return entry_id

    def _vpdq_frames(self, frames: Any) -> list[str] | None:
        """What a bank stores of a video: its unique frame PDQs of sufficient quality
        (HMA's `pdq,quality,timestamp` cells converted); None when no frame is left."""
        from tantalio.signals.vpdq import parse_frames

        if isinstance(frames, str):
            frames = parse_frames(frames)
        return unique_pdqs(frames, self.rules.min_quality) or None

    def unusable(self, e: HashEntry) -> str | None:
        """Why a hash-set entry cannot be matched here, or None when it can."""
        from tantalio.signals import registry

        try:
            for name in ("md5", "sha1", "sha256", "pdq"):
                value = getattr(e, name)
                if value:
                    registry.normalize(name, value)
            frames = self._vpdq_frames(e.vpdq) if e.vpdq else None
        except sig.SignalError as exc:
            return str(exc)
        if e.vpdq and not frames:
            return f"no vpdq frame has quality >= {self.rules.min_quality}"
        if not (e.md5 or e.sha1 or e.sha256 or e.pdq or frames):
            return "no hash this service can match (PhotoDNA is stored, never matched)"
        return None

    def import_hash_entries(
        self, bank_name: str, entries: Iterable[HashEntry], *, source_list: str
    ) -> int:
        """Add hash-set entries; the caller has checked them (`imports.usable`)."""

        def convert() -> Iterable[NewEntry]:
            for e in entries:
                yield NewEntry(
                    md5=e.md5,
                    sha1=e.sha1,
                    sha256=e.sha256,
                    pdq=e.pdq,
                    vpdq=self._vpdq_frames(e.vpdq) if e.vpdq else None,
                    photodna=e.photodna,
                    category=e.category,
                    source_category=e.source_category,
                    source_list=source_list,
                    original_id=e.original_id,
                    source_added_at=e.added_at,
                    meta={"series": e.series} if e.series else None,
                )

        return len(self.add_entries(bank_name, convert()))

    def remove_entries(self, bank_name: str, ids: Sequence[int]) -> int:
        bank = self.bank(bank_name)
        n = self.store.remove_entries(ids, bank_id=bank.id)
        self._changed()
        return n

    def entries(self, ids: Iterable[int]) -> dict[int, EntryRecord]:
        return {e.id: e for e in self.store.get_entries(ids)}

    # -- matching ----------------------------------------------------------------------

    def _radius(self) -> int:
        banks = [b for b in self._banks.values()]
        return max((b.pdq_threshold for b in banks), default=self.rules.pdq_threshold)

    def rules_for(self, *, orientations: bool | None = None) -> MatchRules:
        """The service's rules searched at the widest bank threshold (each bank's own
        threshold is applied to the hits); `orientations` overrides per request."""
        return self.rules.with_(pdq_threshold=self._radius(), orientations=orientations)

    def _filter(
        self,
        found: Iterable[SignalMatch],
        *,
        banks: set[str] | None,
        check_enabled: bool,
        coinflip: float | None = None,
    ) -> list[Match]:
        best: dict[int, Match] = {}
        for m in found:
            entry_id, bank_id = m.ref >> BANK_BITS, m.ref & BANK_MASK
            b = self._banks.get(bank_id)
            if b is None:
                continue
            if banks is not None and b.name not in banks:
                continue
            if check_enabled and not b.enabled:
                continue
            if coinflip is not None and b.enabled_ratio < coinflip:
                continue
            by_pdq = m.rule not in (RULE_EXACT, RULE_VPDQ_QUERY, RULE_VPDQ_INDEX)
            if by_pdq and m.distance > b.pdq_threshold:
                continue
            cur = best.get(entry_id)
            if cur is None or m.distance < cur.distance:
                best[entry_id] = Match(
                    entry_id,
                    b,
                    m.signal_type,
                    m.distance,
                    m.rule,
                    m.orientation,
                    m.query_share,
                    m.index_share,
                )
        return sorted(best.values(), key=lambda x: (x.distance, x.entry_id))

    def _query(self, signal_type: str, value: str) -> Query:
        try:
            return Query.of_signal(signal_type, value, self.rules)
        except sig.SignalError as exc:
            raise Invalid(str(exc)) from None

    def lookup(
        self,
        signal_type: str,
        value: str,
        *,
        banks: set[str] | None = None,
        check_enabled: bool = True,
        seed: str | None = None,
        bypass_coinflip: bool = True,
    ) -> list[Match]:
        """Matches of one signal, each entry once, closest first. `seed` makes HMA's
        `enabled_ratio` coin flip reproducible for a piece of content."""
        query = self._query(signal_type, value)
        coin = None if bypass_coinflip else random.Random(seed).random()
        found = lookup(query, _Indexes(self.index), self.rules_for())
        return self._filter(found, banks=banks, check_enabled=check_enabled, coinflip=coin)

    async def lookup_async(
        self,
        signal_type: str,
        value: str,
        *,
        banks: set[str] | None = None,
        check_enabled: bool = True,
        seed: str | None = None,
        bypass_coinflip: bool = True,
    ) -> list[Match]:
        """`lookup` for the event loop: PDQ queries of concurrent requests share one index
        search (`PDQBatcher`), whose hits the one lookup then judges."""
        if signal_type != sig.PDQ:
            return self.lookup(
                signal_type,
                value,
                banks=banks,
                check_enabled=check_enabled,
                seed=seed,
                bypass_coinflip=bypass_coinflip,
            )
        query = self._query(signal_type, value)
        coin = None if bypass_coinflip else random.Random(seed).random()
        raw = await self.batcher.search(query.pdq or "")
        hits = [[((m.entry_id << BANK_BITS) | m.bank_id, m.distance) for m in raw]]
        found = lookup(query, _Indexes(self.index, hits), self.rules_for())
        return self._filter(found, banks=banks, check_enabled=check_enabled, coinflip=coin)

    def lookup_fingerprint(
        self,
        fp: Fingerprint,
        *,
        banks: set[str] | None = None,
        orientations: bool | None = None,
    ) -> list[Match]:
        """Every way an upload can match (the one lookup): exact hashes, PDQ in 8
        orientations when its quality passes the gate, vPDQ for videos, and video frames
        against pictures both ways. Each entry once, closest first."""
        query = Query.of_fingerprint(fp, self.rules)
        found = lookup(query, _Indexes(self.index), self.rules_for(orientations=orientations))
        return self._filter(found, banks=banks, check_enabled=True)

    # -- after a match -----------------------------------------------------------------

    def record(
        self,
        matches: Sequence[Match],
        *,
        api_key_id: int | None = None,
        content_ref: str | None = None,
        account: dict[str, Any] | None = None,
        upload: dict[str, Any] | None = None,
        file_hashes: dict[str, Any] | None = None,
    ) -> list[MatchEventRecord]:
        """Store one match event per matched entry and run the action rules on them."""
        if not matches:
            return []
        account_id = None
        if account and account.get("id") is not None:
            account_id = str(account["id"])
        events = self.store.record_matches(
            {
                "api_key_id": api_key_id,
                "entry_id": m.entry_id,
                "bank_id": m.bank.id,
                "signal_type": m.signal_type,
                "distance": m.distance,
                "content_ref": content_ref,
                "account_id": account_id,
                "account": account,
                "upload": upload,
                "file_hashes": file_hashes,
            }
            for m in matches
        )
        entries = self.entries(m.entry_id for m in matches)
        self.actions.on_matches(events, entries, self._banks)
        return events
