"""What the web pages show of the central exchange (issue 11): other agencies' records on the
media page, per-agency summaries on the series page and the case dashboard ("identified by X
on DATE"). What a sync changed is a case notice (web/routers/notices.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tantalio.store import exchange_ws_ops as ops
from tantalio.store.series import Series

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _who(agency: str, country: str | None) -> str:
    return f"{agency} ({country})" if country else agency


def fact_line(f: ops.AgencyFact) -> str:
    """One sentence per record: "identified by X (CC) on DATE" when the other agency
    identified the victim or marked the series identified, else what it holds."""
    who = _who(f.agency, f.country)
    on = f" on {f.date}" if f.date else ""
    series = f" (series {f.series})" if f.series else ""
    if f.status == "identified" or f.victim_identified:
        return f"identified by {who}{on}{series}"
    if f.status == "in-progress":
        return f"identification in progress at {who}{series}, updated{on}"
    return f"seen by {who}{series}, not identified"


def media_agencies(db: Session, media_id: int) -> list[dict[str, Any]]:
    return [
        {
            "agency": f.agency,
            "country": f.country,
            "contact": f.contact,
            "series": f.series,
            "status": f.status,
            "victim_identified": f.victim_identified,
            "offender_identified": f.offender_identified,
            "category": f.category,
            "match": f.algorithm,
            "distance": f.distance,
            "date": f.date,
            "line": fact_line(f),
        }
        for f in ops.agency_facts(db, [media_id]).get(media_id, [])
    ]


def _summary_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for a in rows:
        who = _who(a["agency"], a["country"])
        if a["identified"]:
            on = f" on {a['date']}" if a["date"] else ""
            a["line"] = f"identified by {who}{on}: {a['identified']} of {a['media']} media"
        else:
            a["line"] = f"seen by {who}: {a['media']} media, none identified"
    return rows


def series_exchange(db: Session, series: Series) -> dict[str, Any]:
    members = ops.media_of_series_named(db, series.name)
    links = [
        {
            "agency": link.agency,
            "country": link.country,
            "other_series": link.other_series,
            "shared_media": link.shared_media,
            "other_status": link.other_status,
            "updated_at": link.updated_at.isoformat(),
        }
        for link in ops.series_links(db, series.name)
    ]
    return {"agencies": _summary_lines(ops.agency_summary(db, members)), "links": links}


def case_exchange(db: Session, case_id: int) -> dict[str, Any]:
    """Per agency, the case's media it holds and has identified (what a sync changed is
    told by the case notices)."""
    return {"agencies": _summary_lines(ops.agency_summary(db, ops.case_media_ids(db, case_id)))}
