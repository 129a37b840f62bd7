"""What the web pages show of the central exchange (issue 11): other agencies' records on the
media page, per-agency summaries on the series page and the case dashboard ("identified by X
on DATE"). What a sync changed is a case notice (web/routers/notices.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tantalio.store import exchange_ws_ops as ops
from tantalio.store.series import Series
from tantalio.web.i18n import N_, Text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _who(agency: str, country: str | None) -> str:
    return f"{agency} ({country})" if country else agency


def fact_line(f: ops.AgencyFact) -> Text:
    """One sentence per record: "identified by X (CC) on DATE" when the other agency
    identified the victim or marked the series identified, else what it holds. Each shape
    is a whole sentence of its own, so that a translation can order its parts freely."""
    who = _who(f.agency, f.country)
    fields = {"who": who, "date": f.date, "series": f.series}
    if f.status == "identified" or f.victim_identified:
        if f.date and f.series:
            return N_("identified by {who} on {date} (series {series})", **fields)
        if f.date:
            return N_("identified by {who} on {date}", who=who, date=f.date)
        if f.series:
            return N_("identified by {who} (series {series})", who=who, series=f.series)
        return N_("identified by {who}", who=who)
    if f.status == "in-progress":
        if f.date and f.series:
            return N_(
                "identification in progress at {who} (series {series}), updated on {date}", **fields
            )
        if f.date:
            return N_(
                "identification in progress at {who}, updated on {date}", who=who, date=f.date
            )
        if f.series:
            return N_(
                "identification in progress at {who} (series {series}), updated",
                who=who,
                series=f.series,
            )
        return N_("identification in progress at {who}, updated", who=who)
    if f.series:
        return N_("seen by {who} (series {series}), not identified", who=who, series=f.series)
    return N_("seen by {who}, not identified", who=who)


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
        if a["identified"] and a["date"]:
            a["line"] = N_(
                "identified by {who} on {date}: {identified} of {media} media",
                who=who,
                date=a["date"],
                identified=a["identified"],
                media=a["media"],
            )
        elif a["identified"]:
            a["line"] = N_(
                "identified by {who}: {identified} of {media} media",
                who=who,
                identified=a["identified"],
                media=a["media"],
            )
        else:
            a["line"] = N_(
                "seen by {who}: {media} media, none identified", who=who, media=a["media"]
            )
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
