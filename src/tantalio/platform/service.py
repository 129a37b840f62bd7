"""`PlatformService`: banks, matching, and what follows a match, for both APIs and the CLI.

Routers stay thin: they parse a request, call one method here, and shape the answer.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tantalio.fingerprint.record import Fingerprint
from tantalio.hashsets.record import HashEntry
from tantalio.platform import signals as sig
from tantalio.platform import snapshot
from tantalio.platform.actions import ActionEngine
from tantalio.platform.batcher import PDQBatcher
from tantalio.platform.bulkindex import BulkIndexError, LayeredPDQ, load_segment
from tantalio.platform.config import PlatformConfig
from tantalio.platform.matchindex import BANK_BITS, BANK_MASK, MAX_BANKS, MatchIndex
from tantalio.platform.sync import IndexSync
from tantalio.signals import MatchRules
from tantalio.signals.lookup import Query, SignalMatch, lookup
from tantalio.signals.rules import (
    RULE_EXACT,
    RULE_LOCAL,
    RULE_VPDQ_INDEX,
    RULE_VPDQ_QUERY,
    RulesError,
)
from tantalio.signals.vpdq import unique_pdqs
from tantalio.store.platform import BankExists, PlatformStore
from tantalio.store.platform.records import BankRecord, EntryRecord, MatchEventRecord, NewEntry

log = logging.getLogger(__name__)
BANK_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    pass


class Match(NamedTuple):
    """One bank entry matched (a NamedTuple: built per hit on the raw-lookup path)."""

    entry_id: int
    bank: BankRecord
    signal_type: str
    distance: int
    rule: str = RULE_EXACT  # signals.rules.RULES: which rule fired
    orientation: str | None = None  # the query orientation that matched (PDQ)
    query_share: float | None = None  # vPDQ: share of the query's unique frames matched
    index_share: float | None = None  # vPDQ: share of the bank video's unique frames matched
    transform: dict[str, Any] | None = None  # local features / trimmed PDQ: how it was found


# MatchRules a bank may set for itself (pdq_threshold has its own column).
BANK_RULE_KEYS = tuple(f for f in MatchRules.__dataclass_fields__ if f != "pdq_threshold")


@dataclass(frozen=True, slots=True)
class _RuleGroup:
    """Banks that share their match rules (all but the PDQ threshold), looked up together:
    one lookup per group, at the group's widest threshold (each bank's own is applied to
    the hits). Built when the banks are (re)loaded, never per request."""

    rules: MatchRules  # the group's rules, orientations as the banks set them
    oriented: MatchRules  # ... with orientations forced on / off by a request
    unoriented: MatchRules
    banks: frozenset[int] | None  # None: every bank (the only group)

    @classmethod
    def of(cls, rules: MatchRules, banks: frozenset[int] | None) -> _RuleGroup:
        return cls(rules, rules.with_(orientations=True), rules.with_(orientations=False), banks)

    def pick(self, orientations: bool | None) -> MatchRules:
        if orientations is None:
            return self.rules
        return self.oriented if orientations else self.unoriented


def _transform(m: SignalMatch) -> dict[str, Any] | None:
    if m.transform is None:
        return None
    out = dict(m.transform)
    if m.false_match_probability is not None:
        out["false_match_probability"] = m.false_match_probability
    return out


class _Indexes:
    """The service's `MatchIndex` as the one lookup's `Indexes` (refs: encoded ids).
    `prefetched`: PDQ hits of a batched search, answered instead of searching again."""

    def __init__(
        self,
        index: MatchIndex,
        prefetched: list[list[tuple[int, int]]] | None = None,
        local: Callable[[], Any] | None = None,
    ) -> None:
        self.index = index
        self.prefetched = prefetched
        self.local = local  # the banked pictures' LocalIndex (or None), built on demand

    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[Any]:
        """Banked pictures whose local features verify against the query's (issue 13)."""
        index = self.local() if self.local is not None else None
        return [] if index is None else index.local_features(variants, rules)

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
        self.rules: MatchRules = self.config.rules  # the server's; each bank may differ
        self.index = MatchIndex(min_quality=self.rules.min_quality)
        self.sync = IndexSync(self.store, self.index)
        self.sync.on_refresh.append(self.reload_banks)
        self.sync.on_bulk.append(lambda: self.map_bulk_segments(strict=False))
        self.actions = ActionEngine(self.store, self.config)
        self.batcher = PDQBatcher(self.index, self._radius)
        # banked pictures' local features: (store version, LocalIndex or None, checked at)
        self._local: tuple[tuple[int, int], Any, float] | None = None
        self._local_lock = threading.Lock()
        self._banks: dict[int, BankRecord] = {}
        self._by_name: dict[str, BankRecord] = {}
        self._bank_rules: dict[int, MatchRules] = {}
        self._groups: tuple[_RuleGroup, ...] = (_RuleGroup.of(self.rules, None),)
        self._widest = self.rules.pdq_threshold
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
        self.map_bulk_segments(strict=True)  # a bad segment stops the start, named
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

    def map_bulk_segments(self, *, strict: bool) -> int:
        """Map the bulk segments of live banks not mapped yet (platform/bulkindex.py);
        returns how many were mapped. A segment whose files are not what the database
        recorded raises `BulkIndexError` when `strict` (start-up), else is logged and left
        out (the follower keeps following)."""
        pdq = self.index.pdq
        if not isinstance(pdq, LayeredPDQ):
            return 0
        mapped = 0
        for seg in self.store.bulk_segments():
            if pdq.has_segment(seg.id):
                continue
            t0 = time.perf_counter()
            try:
                idx = load_segment(seg)
            except BulkIndexError as exc:
                if strict:
                    raise
                log.error("bulk segment %d of bank %d not served: %s", seg.id, seg.bank_id, exc)
                continue
            pdq.add_segment(seg, idx, self.store.bulk_removed(seg))
            self.store.adopt_bulk_index(seg.id, idx)  # entry records read the same mapping
            mapped += 1
            log.info(
                "bulk segment %d mapped: %d hashes in %.2f s",
                seg.id,
                seg.count,
                time.perf_counter() - t0,
            )
        return mapped

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
        rules = {}
        for b in banks.values():
            try:
                rules[b.id] = self.bank_rules(b)
            except RulesError as exc:  # written by hand in the database: not this bank's
                log.warning("bank %s: match rules ignored (%s)", b.name, exc)
                rules[b.id] = self.rules.with_(pdq_threshold=b.pdq_threshold)
        shared: dict[MatchRules, list[int]] = {}
        for bank_id, r in rules.items():
            shared.setdefault(r.with_(pdq_threshold=0), []).append(bank_id)
        groups = tuple(
            _RuleGroup.of(
                key.with_(pdq_threshold=max(rules[i].pdq_threshold for i in ids)),
                frozenset(ids) if len(shared) > 1 else None,
            )
            for key, ids in shared.items()
        ) or (_RuleGroup.of(self.rules, None),)
        self._banks, self._bank_rules, self._groups = banks, rules, groups
        self._by_name = {b.name: b for b in banks.values()}
        self._widest = max(g.rules.pdq_threshold for g in groups)
        self.index.bank_quality = {i: r.min_quality for i, r in rules.items()}

    def bank_rules(self, b: BankRecord) -> MatchRules:
        """The rules matches in bank `b` follow: the server's, with the bank's own keys
        (`BankRecord.match_rules`) and its PDQ threshold over them."""
        own = dict(b.match_rules or {})
        own["pdq_threshold"] = b.pdq_threshold
        return self.rules.overridden(own)

    def rules_of(self, bank_name: str) -> MatchRules:
        b = self.bank(bank_name)
        return self._bank_rules.get(b.id) or self.bank_rules(b)

    def rules_by_id(self, bank_id: int) -> MatchRules:
        return self._bank_rules.get(bank_id, self.rules)

    def pdq_quality_too_low(self, quality: int) -> bool:
        """True when no bank's quality gate lets a PDQ of this quality be matched."""
        return not any(g.rules.pdq_ok(quality) for g in self._groups)

    def _own_rules(self, data: dict[str, Any] | None) -> dict[str, Any] | None:
        """A bank's own rules, checked: known keys, values MatchRules accepts."""
        if data is None:
            return None
        bad = sorted(set(data) - set(BANK_RULE_KEYS))
        if bad:
            raise Invalid(
                f"unknown bank match rule(s): {', '.join(bad)} "
                f"(known: {', '.join(BANK_RULE_KEYS)}; pdq_threshold is its own field)"
            )
        try:
            self.rules.overridden(data)
        except (RulesError, TypeError) as exc:
            raise Invalid(str(exc)) from None
        return dict(data)

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
        match_rules: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> BankRecord:
        """A new bank; `match_rules`: its own MatchRules keys (BANK_RULE_KEYS), the others
        follow the server's."""
        if not BANK_NAME.match(name):
            raise Invalid("bank name must be 1-128 of A-Z a-z 0-9 _ . - (not starting with . or -)")
        ratio = 1.0 if enabled_ratio is None else float(enabled_ratio)
        if not 0.0 <= ratio <= 1.0:
            raise Invalid("enabled_ratio must be between 0.0 and 1.0")
        threshold = self._threshold(pdq_threshold)
        own = self._own_rules(match_rules)
        if len(self.store.banks_by_id(include_deleted=True)) >= MAX_BANKS:
            raise Invalid(f"at most {MAX_BANKS} banks")
        try:
            b = self.store.create_bank(
                name,
                enabled=enabled and ratio > 0,
                enabled_ratio=ratio,
                pdq_threshold=threshold,
                description=description,
                match_rules=own,
                actor=actor,
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

    def update_bank(self, bank_name: str, *, actor: str | None = None, **fields: Any) -> BankRecord:
        fields = {k: v for k, v in fields.items() if v is not None}
        if "name" in fields and not BANK_NAME.match(fields["name"]):
            raise Invalid("invalid bank name")
        if "pdq_threshold" in fields:
            fields["pdq_threshold"] = self._threshold(fields["pdq_threshold"])
        if "match_rules" in fields:  # merged into the bank's own; a None value is kept
            own = self.bank(bank_name).match_rules or {}
            fields["match_rules"] = self._own_rules({**own, **fields["match_rules"]})
        if "enabled_ratio" in fields:
            ratio = float(fields["enabled_ratio"])
            if not 0.0 <= ratio <= 1.0:
                raise Invalid("enabled_ratio must be between 0.0 and 1.0")
            fields.setdefault("enabled", ratio > 0)
        elif "enabled" in fields:
            fields["enabled_ratio"] = 1.0 if fields["enabled"] else 0.0
        try:
            b = self.store.update_bank(bank_name, actor=actor, **fields)
        except BankExists as exc:
            raise Invalid(str(exc)) from None
        if b is None:
            raise NotFound(f"bank {bank_name!r} not found")
        self.reload_banks()
        return b

    def delete_bank(self, name: str, *, actor: str | None = None) -> bool:
        gone = self.store.delete_bank(name, actor=actor)
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
                clean[name] = sig.normalize(sig.registry_name(name), value)
            except sig.SignalError as exc:
                raise Invalid(str(exc)) from None
        local = clean.get(sig.HMA_LOCAL_FEATURES) or clean.get("local-features")
        trimmed = clean.get(sig.HMA_PDQ_TRIMMED) or clean.get("pdq-trimmed")
        gate = self.rules_of(bank_name).min_quality
        frames = self._vpdq_frames(signals[sig.VPDQ], gate) if sig.VPDQ in clean else None
        if sig.VPDQ in clean and frames is None:
            raise Invalid(f"vpdq signal has no frame of quality >= {gate}")
        entry = NewEntry(
            md5=clean.get(sig.MD5) or clean.get(sig.VIDEO_MD5),
            sha1=clean.get(sig.SHA1),
            sha256=clean.get(sig.SHA256),
            pdq=clean.get(sig.PDQ) or trimmed,  # a trimmed PDQ is a PDQ of the picture
            vpdq=frames,
            category=category,
            source_list=source_list,
            original_id=original_id,
            meta=meta,
        )
        [entry_id] = self.add_entries(bank_name, [entry])
        if local:
            self.store.add_entry_features([(entry_id, local)])
            self._local = None
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
            vpdq=self._vpdq_frames(
                [(f.pdq, f.quality, f.timestamp) for f in fp.frames],
                self.rules_of(bank_name).min_quality,
            )
            if fp.frames
            else None,
            category=category,
            source_list=source_list,
            meta=meta,
        )
        [entry_id] = self.add_entries(bank_name, [entry])
        local = fp.extra.get("local_features")
        if isinstance(local, str) and local:
            self.store.add_entry_features([(entry_id, local)])
            self._local = None
        return entry_id

    # -- local features of banked pictures (issue 13) -----------------------------------

    LOCAL_RECHECK_S = 1.0  # how stale this process's view of the banked features may be

    def _local_state(self) -> tuple[tuple[int, int], Any]:
        """(store version, LocalIndex or None), reloaded when another process (or this one)
        banked a picture with local features or removed entries."""
        with self._local_lock:
            cached = self._local
            if cached is not None and time.monotonic() - cached[2] < self.LOCAL_RECHECK_S:
                return cached[0], cached[1]
            version = self.store.local_features_version()
            if cached is not None and cached[0] == version:
                self._local = (version, cached[1], time.monotonic())
                return version, cached[1]
            index = None
            if version[1]:
                from tantalio.localfeat.index import LocalIndex
                from tantalio.localfeat.record import decode

                refs, ids = [], []
                for entry_id, bank_id, text in self.store.local_feature_rows():
                    try:
                        refs.append(decode(text))
                    except sig.SignalError:
                        log.warning("entry %d: stored local features do not parse", entry_id)
                        continue
                    ids.append((entry_id << BANK_BITS) | bank_id)
                index = LocalIndex(refs, ids) if refs else None
            self._local = (version, index, time.monotonic())
            return version, index

    def local_index(self) -> Any:
        """The banked pictures' `LocalIndex`, or None when no bank holds local features."""
        return self._local_state()[1]

    def has_local_features(self) -> bool:
        """Whether an upload is worth extracting local features for (some live bank entry
        has them)."""
        return self.local_index() is not None

    def _vpdq_frames(self, frames: Any, min_quality: int) -> list[str] | None:
        """What a bank stores of a video: its unique frame PDQs of the bank's quality
        (HMA's `pdq,quality,timestamp` cells converted); None when no frame is left."""
        from tantalio.signals.vpdq import parse_frames

        if isinstance(frames, str):
            frames = parse_frames(frames)
        return unique_pdqs(frames, min_quality) or None

    def unusable(self, e: HashEntry, bank_name: str | None = None) -> str | None:
        """Why a hash-set entry cannot be matched in the bank (default: under the server's
        rules), or None when it can."""
        from tantalio.signals import registry

        gate = (self.rules_of(bank_name) if bank_name else self.rules).min_quality
        try:
            for name in ("md5", "sha1", "sha256", "pdq"):
                value = getattr(e, name)
                if value:
                    registry.normalize(name, value)
            frames = self._vpdq_frames(e.vpdq, gate) if e.vpdq else None
        except sig.SignalError as exc:
            return str(exc)
        if e.vpdq and not frames:
            return f"no vpdq frame has quality >= {gate}"
        if not (e.md5 or e.sha1 or e.sha256 or e.pdq or frames):
            return "no hash this service can match (PhotoDNA is stored, never matched)"
        return None

    def import_hash_entries(
        self, bank_name: str, entries: Iterable[HashEntry], *, source_list: str
    ) -> int:
        """Add hash-set entries; the caller has checked them (`imports.usable`)."""

        gate = self.rules_of(bank_name).min_quality

        featured: list[tuple[int, str]] = []  # (position, local features) of reference files

        def convert() -> Iterable[NewEntry]:
            for i, e in enumerate(entries):
                if e.local_features:
                    featured.append((i, e.local_features))
                yield NewEntry(
                    md5=e.md5,
                    sha1=e.sha1,
                    sha256=e.sha256,
                    pdq=e.pdq,
                    vpdq=self._vpdq_frames(e.vpdq, gate) if e.vpdq else None,
                    photodna=e.photodna,
                    category=e.category,
                    source_category=e.source_category,
                    source_list=source_list,
                    original_id=e.original_id,
                    source_added_at=e.added_at,
                    meta={"series": e.series} if e.series else None,
                )

        ids = self.add_entries(bank_name, convert())
        if featured:
            self.store.add_entry_features([(ids[i], text) for i, text in featured])
            self._local = None
        return len(ids)

    def remove_entries(self, bank_name: str, ids: Sequence[int]) -> int:
        bank = self.bank(bank_name)
        n = self.store.remove_entries(ids, bank_id=bank.id)
        self._local = None
        self._changed()
        return n

    def entries(self, ids: Iterable[int]) -> dict[int, EntryRecord]:
        return {e.id: e for e in self.store.get_entries(ids)}

    # -- matching ----------------------------------------------------------------------

    def _radius(self) -> int:
        """The widest PDQ threshold of any bank (the batched index search uses it)."""
        return self._widest

    def _lookup(
        self,
        make_query: Callable[[MatchRules], Query],
        indexes: _Indexes,
        orientations: bool | None = None,
    ) -> list[SignalMatch]:
        """The one lookup under each bank group's rules, each group's matches kept to its
        own banks (one group, one lookup: the usual case costs nothing more)."""
        found: list[SignalMatch] = []
        for g in self._groups:
            rules = g.pick(orientations)
            try:
                query = make_query(rules)
            except sig.SignalError as exc:
                raise Invalid(str(exc)) from None
            hits = lookup(query, indexes, rules)
            if g.banks is not None:
                hits = [m for m in hits if (m.ref & BANK_MASK) in g.banks]
            found.extend(hits)
        return found

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
            by_pdq = m.rule not in (RULE_EXACT, RULE_VPDQ_QUERY, RULE_VPDQ_INDEX, RULE_LOCAL)
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
                    _transform(m),
                )
        return sorted(best.values(), key=lambda x: (x.distance, x.entry_id))

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
        coin = None if bypass_coinflip else random.Random(seed).random()
        found = self._lookup(
            lambda rules: Query.of_signal(sig.registry_name(signal_type), value, rules),
            _Indexes(self.index, local=self.local_index),
        )
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
        if sig.registry_name(signal_type) != sig.PDQ:
            return self.lookup(
                signal_type,
                value,
                banks=banks,
                check_enabled=check_enabled,
                seed=seed,
                bypass_coinflip=bypass_coinflip,
            )
        try:
            clean = sig.normalize(sig.PDQ, value)
        except sig.SignalError as exc:
            raise Invalid(str(exc)) from None
        coin = None if bypass_coinflip else random.Random(seed).random()
        hits = await self.batcher.search(clean)
        if not hits:  # a raw PDQ matches through its PDQ hits only: nothing to judge
            return []
        query = Query(pdq=clean, cross=False)  # Query.of_signal's, without its lookups
        found = self._lookup(lambda _rules: query, _Indexes(self.index, [hits]))
        return self._filter(found, banks=banks, check_enabled=check_enabled, coinflip=coin)

    def lookup_pdq_many(
        self, values: Sequence[str], *, banks: set[str] | None = None
    ) -> list[list[Match]]:
        """`lookup` of several PDQ hashes (an image's orientations) with one index search:
        one pass of the index's per-search work for all of them (at 10M, 1,081 lookups/s
        in batches against 792 one at a time; at 100M both are bound by the memory reads
        of each query, 97 against 114: docs/perf/platform.md)."""
        try:
            clean = [sig.normalize(sig.PDQ, v) for v in values]
        except sig.SignalError as exc:
            raise Invalid(str(exc)) from None
        out: list[list[Match]] = []
        for value, hits in zip(clean, self.index.pdq.search(clean, self._radius()), strict=True):
            if not hits:
                out.append([])
                continue
            query = Query(pdq=value, cross=False)  # as lookup_async: the hits judged

            def make(_rules: MatchRules, q: Query = query) -> Query:
                return q

            found = self._lookup(make, _Indexes(self.index, [hits]))
            out.append(self._filter(found, banks=banks, check_enabled=True))
        return out

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
        found = self._lookup(
            lambda rules: Query.of_fingerprint(fp, rules),
            _Indexes(self.index, local=self.local_index),
            orientations,
        )
        return self._filter(found, banks=banks, check_enabled=True)

    def lookup_local(
        self,
        data: bytes,
        name: str | None = None,
        *,
        banks: set[str] | None = None,
        orientations: bool | None = None,
    ) -> list[Match]:
        """An upload that nothing matched, looked up again with its local features (issue
        13), when some bank holds them; [] otherwise. The one lookup decides, under each
        bank's rules."""
        if not self.has_local_features():
            return []
        from tantalio.platform import hashing

        fp = hashing.fingerprint(data, name, "query")
        return self.lookup_fingerprint(fp, banks=banks, orientations=orientations)

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
