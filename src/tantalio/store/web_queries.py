"""Read-only queries behind the examiner web app's case pages: the triage grid and the case
dashboard.

The grid lists each distinct media of a case once (its first occurrence that passes the
file-level filters stands for it), newest-priority first: `new` media by triage priority,
then everything else. Paging is by keyset (the last row's sort key), never OFFSET, so the
10,000th page costs what the first does (bench/bench_web.py, docs/perf/web.md).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.categories import case_category_counts
from tantalio.store.media import Media
from tantalio.store.series import MediaSeries, Series

# The grid's sort key: (priority, file id), both descending; files without a priority
# (every verdict but `new`) sort after all that have one.
NO_PRIORITY = -1.0

VIEWABLE_KINDS = ("image", "video")


@dataclass(slots=True)
class GridFilter:
    """Filters of the triage grid; None means "any".

    `category` is a VICS code 0..4, or -1 for uncategorized. `camera` matches make or model
    (case-insensitive substring).
    """

    verdict: str | None = None
    category: int | None = None
    exhibit_id: int | None = None
    series_id: int | None = None
    kind: str | None = None
    camera: str | None = None
    has_gps: bool | None = None
    deleted: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}  # type: ignore[attr-defined]


@dataclass(slots=True)
class GridItem:
    file_id: int
    media_id: int
    sha256: str
    kind: str
    type: str
    path: str
    exhibit_id: int
    exhibit: str
    verdict: str | None
    priority: float | None
    category: int | None
    tags: list[str] | None
    deleted: bool
    width: int | None
    height: int | None
    duration: float | None
    make: str | None
    model: str | None
    has_gps: bool
    has_thumbnail: bool
    # Filled by `triage.tile_facts.annotate` for what a tile shows: the hash-set entry behind
    # a known / near-known / non-pertinent / reference verdict, classifier labels, and why
    # a new media ranks where it does.
    match: dict[str, Any] | None = None
    labels: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class GridPage:
    items: list[GridItem]
    next_cursor: str | None
    filters: dict[str, Any] = field(default_factory=dict)


def encode_cursor(priority: float, file_id: int) -> str:
    return base64.urlsafe_b64encode(struct.pack(">dq", priority, file_id)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        priority, file_id = struct.unpack(">dq", raw)
    except (ValueError, struct.error) as exc:
        raise ValueError(f"invalid page cursor {cursor!r}") from exc
    return float(priority), int(file_id)


def _file_conditions(table: Any, case_id: int, flt: GridFilter) -> list[ColumnElement[bool]]:
    """Conditions on a file row (of `table`, File or an alias) that the filter sets."""
    conds: list[ColumnElement[bool]] = [table.media_id.is_not(None)]
    if flt.exhibit_id is not None:
        conds.append(table.exhibit_id == flt.exhibit_id)
    else:
        conds.append(table.exhibit_id.in_(select(Exhibit.id).where(Exhibit.case_id == case_id)))
    if flt.verdict:
        conds.append(table.verdict == flt.verdict)
    if flt.deleted is not None:
        conds.append(table.deleted.is_(flt.deleted))
    return conds


def _media_conditions(flt: GridFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    conds.append(Media.kind == flt.kind if flt.kind else Media.kind.in_(VIEWABLE_KINDS))
    if flt.category is not None:
        conds.append(
            Media.category.is_(None) if flt.category < 0 else Media.category == flt.category
        )
    if flt.camera:
        pattern = f"%{flt.camera.lower()}%"
        conds.append(
            or_(func.lower(Media.make).like(pattern), func.lower(Media.model).like(pattern))
        )
    if flt.has_gps is True:
        conds.append(Media.gps_latitude.is_not(None))
    elif flt.has_gps is False:
        conds.append(Media.gps_latitude.is_(None))
    if flt.series_id is not None:
        conds.append(
            exists().where(MediaSeries.media_id == Media.id, MediaSeries.series_id == flt.series_id)
        )
    return conds


def _grid_base(case_id: int, flt: GridFilter) -> tuple[Any, ColumnElement[float]]:
    # Written as a literal so the expression matches the index ix_file_grid_order.
    sort_key = func.coalesce(File.priority, literal_column("-1.0"))
    earlier = aliased(File)
    first_occurrence = ~exists().where(
        earlier.media_id == File.media_id,
        earlier.id < File.id,
        *_file_conditions(earlier, case_id, flt),
    )
    conds = [*_file_conditions(File, case_id, flt), *_media_conditions(flt), first_occurrence]
    return conds, sort_key


def grid_page(
    session: Session, case_id: int, flt: GridFilter, *, cursor: str | None = None, limit: int = 120
) -> GridPage:
    conds, sort_key = _grid_base(case_id, flt)
    columns = (
        File.id, File.media_id, Media.sha256, Media.kind, Media.type, File.path, File.exhibit_id,
        Exhibit.label, File.verdict, File.priority, Media.category, Media.tags, File.deleted,
        Media.width, Media.height, Media.duration, Media.make, Media.model, Media.gps_latitude,
        Media.thumbnail,
    )  # fmt: skip

    def fetch(*extra: ColumnElement[bool], n: int) -> list[Any]:
        query = (
            select(*columns)
            .join(Media, Media.id == File.media_id)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(*conds, *extra)
            .order_by(sort_key.desc(), File.id.desc())
            .limit(n)
        )
        return list(session.execute(query).all())

    if cursor is None:
        rows = fetch(n=limit + 1)
    else:
        # After (p, fid) in descending order: the rest of the rows with key p, then the rows
        # below p. Two index range seeks; one `a < p OR (a = p AND id < fid)` would make
        # SQLite and PostgreSQL walk the index from its start.
        p, fid = decode_cursor(cursor)
        rows = fetch(sort_key == p, File.id < fid, n=limit + 1)
        if len(rows) <= limit:
            rows += fetch(sort_key < p, n=limit + 1 - len(rows))
    more = len(rows) > limit
    items = [
        GridItem(
            file_id=r[0],
            media_id=r[1] or 0,
            sha256=r[2],
            kind=r[3],
            type=r[4],
            path=r[5],
            exhibit_id=r[6],
            exhibit=r[7],
            verdict=r[8],
            priority=r[9],
            category=r[10],
            tags=r[11],
            deleted=bool(r[12]),
            width=r[13],
            height=r[14],
            duration=r[15],
            make=r[16],
            model=r[17],
            has_gps=r[18] is not None,
            has_thumbnail=r[19] is not None,
        )
        for r in rows[:limit]
    ]
    last = items[-1] if items and more else None
    next_cursor = (
        encode_cursor(last.priority if last.priority is not None else NO_PRIORITY, last.file_id)
        if last
        else None
    )
    return GridPage(items=items, next_cursor=next_cursor, filters=flt.as_dict())


def grid_count(session: Session, case_id: int, flt: GridFilter) -> int:
    conds, _ = _grid_base(case_id, flt)
    query = (
        select(func.count()).select_from(File).join(Media, Media.id == File.media_id).where(*conds)
    )
    return int(session.scalar(query) or 0)


# --- the case dashboard -----------------------------------------------------------------------


@dataclass(slots=True)
class CaseSummary:
    case: Case
    exhibits: list[dict[str, Any]]  # id, label, kind, status, files, verdicts{...}, verification
    verdicts: dict[str, int]  # files per verdict
    categories: dict[str | int, int]  # distinct media per category code ("none" = uncategorized)
    kinds: dict[str, int]  # distinct media per kind
    # `categories` is the effective category (the examiner's, else the hash set's: one rule
    # with the report, store.categories); these count each source alone.
    media: int
    files: int
    categories_examiner: dict[str | int, int] = field(default_factory=dict)
    categories_hashset: dict[str | int, int] = field(default_factory=dict)
    # images and videos a fast pass (`ingest --fast`) stored that await their second pass
    perceptual_pending: int = 0


def get_case_by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def case_summary(session: Session, case: Case) -> CaseSummary:
    exhibits = list(
        session.scalars(select(Exhibit).where(Exhibit.case_id == case.id).order_by(Exhibit.label))
    )
    per_exhibit: dict[int, dict[str, int]] = {e.id: {} for e in exhibits}
    verdict_or_pending = func.coalesce(File.verdict, literal_column("'pending'"))
    rows = session.execute(
        select(File.exhibit_id, verdict_or_pending, func.count())
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case.id)
        .group_by(File.exhibit_id, verdict_or_pending)
    ).all()
    verdicts: dict[str, int] = {}
    for exhibit_id, verdict, n in rows:
        per_exhibit[exhibit_id][verdict] = int(n)
        verdicts[verdict] = verdicts.get(verdict, 0) + int(n)
    case_media = (
        select(File.media_id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case.id, File.media_id.is_not(None))
        .distinct()
        .subquery()
    )
    kinds: dict[str, int] = {}
    for kind, n in session.execute(
        select(Media.kind, func.count())
        .join(case_media, case_media.c.media_id == Media.id)
        .group_by(Media.kind)
    ):
        kinds[kind] = kinds.get(kind, 0) + int(n)
    pending = session.scalar(
        select(func.count())
        .select_from(Media)
        .join(case_media, case_media.c.media_id == Media.id)
        .where(Media.perceptual_pending.is_(True), Media.kind.in_(VIEWABLE_KINDS))
    )
    counts = case_category_counts(session, case.id)
    return CaseSummary(
        case=case,
        exhibits=[
            {
                "id": e.id,
                "label": e.label,
                "kind": e.kind,
                "status": e.status,
                "files": sum(per_exhibit[e.id].values()),
                "verdicts": per_exhibit[e.id],
                "verification": e.verification,
                "verification_problems": list((e.verification_detail or {}).get("problems", [])),
            }
            for e in exhibits
        ],
        verdicts=verdicts,
        categories=counts.effective,
        kinds=kinds,
        media=sum(kinds.values()),
        files=sum(verdicts.values()),
        categories_examiner=counts.examiner,
        categories_hashset=counts.hashset,
        perceptual_pending=int(pending or 0),
    )


def camera_options(session: Session, case_id: int, limit: int = 200) -> list[str]:
    """Distinct 'make model' strings of the case's media, most frequent first (filter list)."""
    label = func.trim(
        func.coalesce(Media.make, literal_column("''"))
        + literal_column("' '")
        + func.coalesce(Media.model, literal_column("''"))
    )
    rows = session.execute(
        select(label, func.count())
        .select_from(File)
        .join(Media, Media.id == File.media_id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case_id, or_(Media.make.is_not(None), Media.model.is_not(None)))
        .group_by(label)
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    return [r[0] for r in rows if r[0]]


def case_series(session: Session, case_id: int) -> list[tuple[int, str]]:
    """Series with at least one media in the case (for the grid's series filter)."""
    rows = session.execute(
        select(Series.id, Series.name)
        .where(
            exists().where(
                MediaSeries.series_id == Series.id,
                MediaSeries.media_id == File.media_id,
                File.exhibit_id == Exhibit.id,
                Exhibit.case_id == case_id,
            )
        )
        .order_by(Series.name)
    ).all()
    return [(int(i), str(n)) for i, n in rows]


def refresh_planner_statistics(session: Session) -> bool:
    """ANALYZE the case tables when their statistics are missing or the file table has grown
    2x since; True when it ran.

    Without statistics the planners go badly wrong on the grid: SQLite sorts a whole case
    instead of walking the grid index (400 ms instead of 3 ms a page at 100,000 files), and
    PostgreSQL, right after a bulk ingest and before autovacuum's analyze, takes the tables
    for empty and nests loops over them (minutes). Cheap: a fraction of a second at 100,000.
    """
    dialect = session.get_bind().dialect.name
    files = int(session.scalar(select(func.count()).select_from(File)) or 0)
    if files < 1000:
        return False
    if dialect == "postgresql":
        known = session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'file' AND relkind = 'r'")
        ).scalar()
        if known is not None and float(known) * 2 > files:
            return False
        for table in ("file", "media", "exhibit", "media_series", "match"):
            session.execute(text(f'ANALYZE "{table}"'))
        session.commit()
        return True
    if dialect != "sqlite":
        return False
    has_stats = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
    ).first()
    if has_stats:
        row = session.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'file' AND idx = 'ix_file_grid_order'")
        ).first()
        if row and int(str(row[0]).split()[0]) * 2 > files:
            return False
    session.execute(text("ANALYZE"))
    session.commit()
    return True


def grid_neighbours(
    session: Session, case_id: int, flt: GridFilter, media_id: int
) -> tuple[int | None, int | None]:
    """(previous, next) media of the triage grid's order under `flt` around `media_id`, so
    the media page can step through exactly what the grid showed. (None, None) when the
    media is not in the filtered grid."""
    conds, sort_key = _grid_base(case_id, flt)
    here = session.execute(
        select(sort_key, File.id)
        .join(Media, Media.id == File.media_id)
        .where(*conds, File.media_id == media_id)
        .limit(1)
    ).first()
    if here is None:
        return None, None
    p, fid = float(here[0]), int(here[1])

    def step(after: bool) -> int | None:
        if after:
            beyond = or_(sort_key < p, and_(sort_key == p, File.id < fid))
            order = (sort_key.desc(), File.id.desc())
        else:
            beyond = or_(sort_key > p, and_(sort_key == p, File.id > fid))
            order = (sort_key.asc(), File.id.asc())
        found = session.scalar(
            select(File.media_id)
            .join(Media, Media.id == File.media_id)
            .where(*conds, beyond)
            .order_by(*order)
            .limit(1)
        )
        return int(found) if found is not None else None

    return step(False), step(True)
