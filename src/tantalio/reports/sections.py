"""Report sections beyond the file tables: the examiner's review (categories and series), the
hash-set matches, other agencies' records at the central exchange, the chat network, and the
audit summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tantalio.hashsets import categories
from tantalio.store.audit_summary import AuditSummary, case_audit_summary
from tantalio.store.categories import case_category_counts
from tantalio.triage.results import TriageRow
from tantalio.web.i18n import _

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TOP_DISTRIBUTORS = 15


@dataclass(slots=True)
class CategoryTable:
    rows: list[tuple[str, int, int, int]]  # name, effective, examiner, hash sets


@dataclass(slots=True)
class HashSetHits:
    name: str
    files: Counter[str] = field(default_factory=Counter)  # verdict -> files
    categories: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class ChatSection:
    distributors: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    invites: list[str]
    first_posts: list[dict[str, Any]]


@dataclass(slots=True)
class AgencyMedia:
    """One media of the case that other agencies hold at the exchange, with each agency's
    record (the triage JSON `agencies` items: agency, country, series, status,
    victim_identified)."""

    sha256: str | None
    verdict: str
    files: list[str]  # "exhibit: path" of each occurrence in this case
    agencies: list[dict[str, Any]]

    @property
    def identified(self) -> bool:
        return any(a.get("status") == "identified" for a in self.agencies)

    @property
    def victim_identified(self) -> bool:
        return any(a.get("victim_identified") for a in self.agencies)


def agency_media(rows: list[TriageRow]) -> list[AgencyMedia]:
    """Per media (not per file occurrence), the agencies that saw or identified it: media
    whose victim another agency identified first, then identified series, then the rest,
    each in hash order (a stable, reviewable order)."""
    by_media: dict[object, AgencyMedia] = {}
    for r in rows:
        if not r.agencies:
            continue
        key = r.media_id if r.media_id is not None else r.sha256
        item = by_media.get(key)
        if item is None:
            item = by_media[key] = AgencyMedia(r.sha256, r.verdict, [], [])
            seen: set[tuple[Any, ...]] = set()
            for a in r.agencies:
                ident = tuple(a.get(k) for k in ("agency", "series", "status"))
                if ident not in seen:
                    seen.add(ident)
                    item.agencies.append(a)
        item.files.append(f"{r.exhibit}: {r.path}")
    return sorted(
        by_media.values(),
        key=lambda m: (not m.victim_identified, not m.identified, m.sha256 or ""),
    )


def category_name(code: int | None) -> str:
    """A category's name in the report's language (the web catalogs hold the names)."""
    return _(categories.category_name(code))


def category_table(session: Session, case_id: int) -> CategoryTable:
    counts = case_category_counts(session, case_id)
    rows = []
    for key in ("none", 0, 1, 2, 3, 4):
        code = None if key == "none" else int(key)
        rows.append(
            (
                category_name(code) if code is None else f"{code} · {category_name(code)}",
                counts.effective.get(key, 0),
                counts.examiner.get(key, 0),
                counts.hashset.get(key, 0),
            )
        )
    return CategoryTable(rows)


def hashset_hits(rows: list[TriageRow]) -> list[HashSetHits]:
    out: dict[str, HashSetHits] = {}
    for r in rows:
        if not r.hashset:
            continue
        hits = out.setdefault(r.hashset, HashSetHits(r.hashset))
        hits.files[r.verdict] += 1
        hits.categories[category_name(r.category)] += 1
    return sorted(out.values(), key=lambda h: (-sum(h.files.values()), h.name))


def examiner_series(rows: list[TriageRow]) -> list[tuple[str, int, Counter[str]]]:
    """(series, files, categories) of the series the case's media are in."""
    files: dict[str, int] = defaultdict(int)
    cats: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        for name in r.examiner_series:
            files[name] += 1
            cats[name][category_name(r.examiner_category)] += 1
    return [(n, files[n], cats[n]) for n in sorted(files, key=lambda n: (-files[n], n))]


def chat_section(session: Session, case_id: int) -> ChatSection | None:
    from tantalio.network import build_graph, rank
    from tantalio.store.chats import load_graph_data

    data = load_graph_data(session, [case_id])
    if not data.accounts and not data.groups:
        return None
    ranking = rank(data, build_graph(data))
    distributors = [r.to_json() for r in ranking[:TOP_DISTRIBUTORS]]
    members: Counter[int] = Counter(m.group_id for m in data.memberships)
    named = sorted(
        ((members.get(g.id, 0), g.subject or g.jid or g.key) for g in data.groups),
        key=lambda t: (-t[0], t[1]),
    )
    groups: list[dict[str, Any]] = [{"name": name, "members": n} for n, name in named]
    first_posts = [
        {"account": r["account"], **fp} for r in distributors for fp in (r.get("first_posts") or [])
    ]
    return ChatSection(
        distributors=distributors,
        groups=groups[:50],
        invites=sorted({code for code, _ in data.invites})[:100],
        first_posts=first_posts[:50],
    )


def reported_uploads(session: Session, case_id: int, rows: list[TriageRow]) -> list[dict[str, Any]]:
    """The uploads platforms reported for this case's media (law-enforcement report
    packages): account, IP and port, time in UTC (and as given; flagged when the platform
    stated no time zone), with each file's verdict and the hash it is known by."""
    from tantalio.store.uploads import uploads_of_media

    by_media = {r.media_id: r for r in rows if r.media_id is not None}
    facts = uploads_of_media(session, by_media, [case_id])
    out: list[dict[str, Any]] = []
    for mid, ups in facts.items():
        row = by_media[mid]
        for u in ups:
            out.append(
                {
                    "account": " · ".join(
                        str(v)
                        for v in (
                            u.service,
                            u.account_id,
                            u.account.get("username"),
                            u.account.get("email"),
                            u.account.get("phone"),
                        )
                        if v
                    ),  # fmt: skip
                    "ip": u.ip or "",
                    "port": u.port,
                    "utc": u.uploaded_at.isoformat(sep=" ") if u.uploaded_at else None,
                    "given": u.time_given or "",
                    "zone_stated": u.zone_stated,
                    "hash": f"SHA-256 {row.sha256[:16]}…" if row.sha256 else f"MD5 {row.md5}",
                    "verdict": row.verdict,
                    "reporter": u.reporter or "",
                }
            )
    out.sort(key=lambda d: (d["utc"] is None, d["utc"] or "", d["account"]))
    return out


def audit_section(session: Session, case_id: int) -> AuditSummary:
    return case_audit_summary(session, case_id)
