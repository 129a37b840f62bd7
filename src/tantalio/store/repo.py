"""Cases, exhibits and hash sets: the small lookups every command starts with."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tantalio.hashsets.record import KINDS
from tantalio.hashsets.record import HashEntry as EntryRecord
from tantalio.store.bulk import chunks, table_of
from tantalio.store.cases import Case, Exhibit, ExhibitSource, File, source_walk_path
from tantalio.store.hashsets import HashEntry, HashEntryFeatures, HashSet
from tantalio.store.timeutil import to_naive_utc, utcnow


class NotFound(LookupError):
    """A case, exhibit or hash set named on the command line does not exist."""


def get_case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        known = session.scalars(select(Case.reference)).all()
        raise NotFound(
            f"no case {reference!r} in this workspace{did_you_mean(reference, known)} "
            "(see `tantalio case list`)"
        )
    return case


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A "did you mean" clause naming the closest of `known` (ignoring letter case and
    separators), or "" when none is close."""

    def fold(text: str) -> str:
        return re.sub(r"[\s_\-./]+", "-", text.strip().casefold())

    by_fold: dict[str, list[str]] = {}
    for k in known:
        by_fold.setdefault(fold(k), []).append(k)
    close = difflib.get_close_matches(fold(name), list(by_fold), n=3, cutoff=0.6)
    names = [k for c in close for k in by_fold[c]][:3]
    if not names:
        return ""
    return "; did you mean " + " or ".join(repr(n) for n in names) + "?"


def ensure_case(session: Session, reference: str, title: str | None = None) -> tuple[Case, bool]:
    """The case with this reference, created when missing; the flag says it was created."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is not None:
        return case, False
    from tantalio.store.access import home_agency

    home = home_agency(session)  # a new case belongs to the workspace's agency
    case = Case(reference=reference, title=title, agency_id=home.id if home else None)
    session.add(case)
    session.flush()
    return case, True


def list_cases(session: Session) -> list[tuple[Case, int, int]]:
    """Every case with its number of exhibits and files."""
    files = (
        select(Exhibit.case_id, func.count(File.id).label("n"))
        .join(File, File.exhibit_id == Exhibit.id)
        .group_by(Exhibit.case_id)
        .subquery()
    )
    exhibits = (
        select(Exhibit.case_id, func.count(Exhibit.id).label("n"))
        .group_by(Exhibit.case_id)
        .subquery()
    )
    rows = session.execute(
        select(Case, func.coalesce(exhibits.c.n, 0), func.coalesce(files.c.n, 0))
        .outerjoin(exhibits, exhibits.c.case_id == Case.id)
        .outerjoin(files, files.c.case_id == Case.id)
        .order_by(Case.reference)
    ).all()
    return [(c, int(e), int(f)) for c, e, f in rows]


def ensure_exhibit(
    session: Session,
    case: Case,
    label: str,
    kind: str | None = None,
    source_path: str | None = None,
) -> Exhibit:
    exhibit = session.scalar(
        select(Exhibit).where(Exhibit.case_id == case.id, Exhibit.label == label)
    )
    if exhibit is None:
        exhibit = Exhibit(case_id=case.id, label=label, kind=kind, source_path=source_path)
        session.add(exhibit)
        session.flush()
    return exhibit


def record_sources(
    session: Session, exhibit: Exhibit, sources: Iterable[tuple[str, str, str | None]]
) -> list[ExhibitSource]:
    """Add the (absolute path, prefix, kind) sources a run reads the exhibit from to those
    it has (`ExhibitSource`), in walk order; return them all. A source recorded before
    takes this run's prefix and kind: the latest command says how its paths are named (an
    exhibit from before the table got its one source without a prefix, which a rerun of a
    multi-source command corrects)."""
    known = {src.path: src for src in exhibit.sources}
    position = max((src.position for src in known.values()), default=-1)
    for path, prefix, kind in sources:
        src = known.get(path)
        if src is None:
            position += 1
            src = ExhibitSource(exhibit_id=exhibit.id, position=position, path=path)
            exhibit.sources.append(src)
            known[path] = src
        src.prefix, src.kind = prefix, kind
    session.flush()
    return list(exhibit.sources)


def record_acquisition(
    session: Session, exhibit: Exhibit, kind: str, acquisition: dict[str, str], verifiable: bool
) -> None:
    """Keep what the imaging tool recorded; a disk image of a format that stores hashes is
    `not verified` until `record_verification`."""
    exhibit.kind = kind
    if acquisition:
        exhibit.acquisition = dict(acquisition)
    if exhibit.verification is None and verifiable:
        exhibit.verification = "not verified"


def record_verification(session: Session, exhibit_id: int, outcome: dict[str, Any]) -> None:
    """Store the outcome of reading an image whole (`Verification.to_json()`)."""
    exhibit = session.get(Exhibit, exhibit_id)
    if exhibit is None:
        raise NotFound(f"no exhibit #{exhibit_id}")
    exhibit.verification = str(outcome["status"])
    exhibit.verification_detail = outcome
    exhibit.verified_at = utcnow()


def find_exhibit(session: Session, case_ref: str | None, label: str) -> Exhibit:
    """The exhibit labelled `label` (in case `case_ref` when given); `NotFound` when there is
    none, ValueError when the label is in several cases and no case was given."""
    q = select(Exhibit).where(Exhibit.label == label)
    if case_ref is not None:
        q = q.where(Exhibit.case_id == get_case(session, case_ref).id)
    found = list(session.scalars(q))
    if not found:
        raise NotFound(f"no exhibit {label!r}" + (f" in case {case_ref!r}" if case_ref else ""))
    if len(found) > 1:
        raise ValueError(f"exhibit {label!r} is in several cases; name one with --case")
    return found[0]


def case_exhibits(session: Session, case_id: int) -> list[Exhibit]:
    return list(
        session.scalars(select(Exhibit).where(Exhibit.case_id == case_id).order_by(Exhibit.label))
    )


# ---- hash sets -------------------------------------------------------------------------

ENTRY_BATCH = 5000


class HashSetExists(ValueError):
    """A hash set of that name is already imported (replace it explicitly)."""


def get_hash_set(session: Session, name: str) -> HashSet:
    found = session.scalar(select(HashSet).where(HashSet.name == name))
    if found is None:
        known = session.scalars(select(HashSet.name)).all()
        raise NotFound(
            f"no hash set {name!r} in this workspace{did_you_mean(name, known)} "
            "(see `tantalio hashset list`)"
        )
    return found


def list_hash_sets(session: Session) -> list[HashSet]:
    return list(session.scalars(select(HashSet).order_by(HashSet.name)))


def _entry_row(hash_set_id: int, e: EntryRecord) -> dict[str, object]:
    return {
        "hash_set_id": hash_set_id,
        "md5": e.md5.lower() if e.md5 else None,
        "sha1": e.sha1.lower() if e.sha1 else None,
        "sha256": e.sha256.lower() if e.sha256 else None,
        "pdq": e.pdq.lower() if e.pdq else None,
        "vpdq": [v.lower() for v in e.vpdq] if e.vpdq else None,
        "photodna": e.photodna,
        "category": e.category,
        "source_category": e.source_category,
        "series": e.series,
        "victim_identified": e.victim_identified,
        "offender_identified": e.offender_identified,
        "is_distributed": e.is_distributed,
        "comments": e.comments,
        "tags": list(e.tags) or None,
        "original_id": e.original_id,
        "added_at": to_naive_utc(e.added_at),
    }


def create_hash_set(
    session: Session,
    name: str,
    entries: Iterable[EntryRecord],
    *,
    kind: str = "known-bad",
    format: str | None = None,
    source: str | None = None,
    source_sha256: str | None = None,
) -> HashSet:
    """Store a hash set and its entries in the caller's transaction (all or nothing: if
    `entries` raises, the caller rolls back and nothing of the set remains)."""
    if kind not in KINDS:
        raise ValueError(f"hash-set kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if session.scalar(select(HashSet.id).where(HashSet.name == name)) is not None:
        raise HashSetExists(
            f"a hash set named {name!r} exists already (import with --replace to replace it)"
        )
    hash_set = HashSet(
        name=name,
        kind=kind,
        format=format,
        source=source,
        source_sha256=source_sha256,
        imported_at=utcnow(),
    )
    session.add(hash_set)
    session.flush()
    hash_set.entry_count = insert_entries(session, hash_set.id, entries)
    session.flush()
    return hash_set


def insert_entries(session: Session, hash_set_id: int, entries: Iterable[EntryRecord]) -> int:
    """Insert entries into a stored set in batches; returns how many. An entry carrying a
    reference file's trimmed PDQ or local features (a signed list of a set made from files)
    gets its `hash_entry_features` row too."""
    table = table_of(HashEntry)
    count = 0
    for batch in chunks(entries, ENTRY_BATCH):
        featured = any(e.pdq_trimmed or e.local_features for e in batch)
        before = 0
        if featured:
            q = select(func.max(HashEntry.id)).where(HashEntry.hash_set_id == hash_set_id)
            before = session.scalar(q) or 0
        session.execute(table.insert(), [_entry_row(hash_set_id, e) for e in batch])
        count += len(batch)
        if featured:
            _insert_features(session, hash_set_id, before, batch)
    return count


def _insert_features(
    session: Session, hash_set_id: int, before: int, batch: Sequence[EntryRecord]
) -> None:
    """The features of a batch just inserted (ids above `before`, in insertion order)."""

    ids = session.scalars(
        select(HashEntry.id)
        .where(HashEntry.hash_set_id == hash_set_id, HashEntry.id > before)
        .order_by(HashEntry.id)
    ).all()
    rows = [
        {"hash_entry_id": eid, "pdq_trimmed": e.pdq_trimmed, "local_features": e.local_features}
        for eid, e in zip(ids, batch, strict=True)
        if e.pdq_trimmed or e.local_features
    ]
    session.execute(table_of(HashEntryFeatures).insert(), rows)


def delete_hash_set(session: Session, hash_set: HashSet) -> list[int]:
    """Remove a set, its entries and their matches. Returns the media that lost a match:
    their files' verdicts must be refreshed."""
    from tantalio.store.media import Match

    entry_ids = select(HashEntry.id).where(HashEntry.hash_set_id == hash_set.id)
    touched = session.scalars(
        select(Match.media_id).where(Match.hash_entry_id.in_(entry_ids)).distinct()
    ).all()
    session.execute(delete(Match).where(Match.hash_entry_id.in_(entry_ids)))
    session.execute(delete(HashEntry).where(HashEntry.hash_set_id == hash_set.id))
    session.execute(delete(HashSet).where(HashSet.id == hash_set.id))
    session.flush()
    return list(touched)


def entry_ids_of_set(session: Session, hash_set_id: int) -> Sequence[int]:
    return session.scalars(select(HashEntry.id).where(HashEntry.hash_set_id == hash_set_id)).all()


def iter_entries(session: Session, hash_set_id: int) -> Iterator[EntryRecord]:
    """The entries of a stored set as `hashsets.record.HashEntry` records, in id order."""

    q = (
        select(HashEntry, HashEntryFeatures.pdq_trimmed, HashEntryFeatures.local_features)
        .outerjoin(HashEntryFeatures, HashEntryFeatures.hash_entry_id == HashEntry.id)
        .where(HashEntry.hash_set_id == hash_set_id)
        .order_by(HashEntry.id)
        .execution_options(yield_per=5000)
    )
    for e, trimmed, local in session.execute(q):
        yield EntryRecord(
            md5=e.md5,
            sha1=e.sha1,
            sha256=e.sha256,
            pdq=e.pdq,
            vpdq=list(e.vpdq) if e.vpdq else None,
            photodna=e.photodna,
            category=e.category,
            source_category=e.source_category,
            series=e.series,
            victim_identified=e.victim_identified,
            offender_identified=e.offender_identified,
            is_distributed=e.is_distributed,
            comments=e.comments,
            tags=list(e.tags or []),
            original_id=e.original_id,
            added_at=e.added_at,
            pdq_trimmed=trimmed,
            local_features=local,
        )


def get_hash_set_by_id(session: Session, hash_set_id: int) -> HashSet:
    found = session.get(HashSet, hash_set_id)
    if found is None:
        raise NotFound(f"no hash set with id {hash_set_id}")
    return found


def occurrence_sources(
    session: Session, media_ids: Iterable[int], *, max_rows: int | None = None
) -> Iterator[tuple[int, str, str, int | None]]:
    """(media id, exhibit source path, the path `evidence.open_source(source)` yields for
    it, size) of each occurrence of these media whose exhibit recorded its sources: media by
    media, then files, then sources in walk order; an exhibit of several sources gives the
    one holding the file (`ExhibitSource.walk_path`). `max_rows` bounds the (file, source)
    rows read per batch of media (what re-reads a file again needs only a few)."""
    for batch in chunks(sorted(set(media_ids))):
        q = (
            select(
                File.media_id,
                ExhibitSource.path,
                ExhibitSource.prefix,
                ExhibitSource.kind,
                File.path,
                File.size,
            )
            .join(ExhibitSource, ExhibitSource.exhibit_id == File.exhibit_id)
            .where(File.media_id.in_(batch))
            .order_by(File.media_id, File.id, ExhibitSource.position)
        )
        if max_rows is not None:
            q = q.limit(max_rows)
        for mid, src, prefix, kind, path, size in session.execute(q):
            inside = source_walk_path(src, prefix, kind, path)
            if mid is not None and inside is not None:
                yield int(mid), str(src), inside, size
