"""The workspace side of the exchange: ask about media, push a case, pull what changed.

- `ask_case` runs at the end of ingest (after the local matching): the case's media the
  exchange has not answered about are sent in batches; the answers are stored and the
  verdicts refreshed. Offline, the media are recorded as pending and ingest goes on.
- `sync` (`tantalio exchange sync`) first asks about every pending or never-asked media of
  the workspace, then pulls `/v1/changes` from the stored position and the series links,
  applies them, refreshes the verdicts of every case holding an affected media, and leaves a
  case notice (`case_notice`, shown on the dashboard until seen) per affected case and kind
  of change, plus one audit event.
- `push_case` (`tantalio exchange push CASE`) sends what the case's examiners decided.

HTTP never runs inside a database transaction: the work is read, sent, then written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tantalio.exchange.client import ExchangeClient, ExchangeError, ExchangeUnreachable
from tantalio.exchange.connection import ExchangeConfigError, load, save
from tantalio.store import audit as store_audit
from tantalio.store import exchange_ws_ops as ops
from tantalio.store import repo
from tantalio.store.exchange_ws import ExchangeSync
from tantalio.store.subscriptions import add_notice
from tantalio.store.timeutil import utcnow
from tantalio.store.verdicts import media_case_refs
from tantalio.store.workspace import Workspace
from tantalio.triage.verdicts import refresh_cases, refresh_media

ASK_CHUNK = 10_000  # media per round trip of read → query → write
NOTICE_KIND = "exchange-sync"  # case_notice.kind


@dataclass(slots=True)
class AskReport:
    asked: int = 0
    matched: int = 0  # media with at least one other agency's record
    pending: int = 0  # could not be asked now
    error: str | None = None
    verdicts: dict[str, int] | None = None  # of the case, when asked for one

    def summary(self) -> str:
        if self.error:
            return (
                f"exchange: {self.pending} media not asked ({self.error}); "
                "`tantalio exchange sync` asks them later"
            )
        if not self.asked:
            return "exchange: every media of the case was asked about already"
        return f"exchange: asked about {self.asked} media, {self.matched} known at other agencies"


def ask_about(ws: Workspace, client: ExchangeClient, media_ids: Sequence[int]) -> AskReport:
    """Query the exchange about these media and store the answers; on an unreachable
    exchange the rest are recorded as pending and the error returned, not raised."""
    report = AskReport()
    ids = sorted(set(media_ids))
    for start in range(0, len(ids), ASK_CHUNK):
        chunk = ids[start : start + ASK_CHUNK]
        with ws.session() as s:
            queries = ops.query_rows(s, chunk)
        try:
            answers = client.query(queries)
        except ExchangeUnreachable as exc:
            rest = ids[start:]
            with ws.transaction() as s:
                ops.mark_pending(s, rest, str(exc))
            report.pending, report.error = len(rest), str(exc)
            return report
        by_media = {int(k): v for k, v in answers.items()}
        with ws.transaction() as s:
            ops.store_answers(s, by_media)
            refresh_media(s, [m for m, v in by_media.items() if v])
        report.asked += len(chunk)
        report.matched += sum(1 for v in by_media.values() if v)
    return report


def ask_case(ws: Workspace, case_id: int) -> AskReport | None:
    """After ingest: ask about the case's media not answered yet. None when the workspace is
    not connected. Never raises for the exchange's sake: ingest must finish offline."""
    problem: str | None = None
    try:
        connection = load(ws)
    except ExchangeConfigError as exc:  # named but unusable (a readable key file): say so
        connection, problem = None, str(exc)
    if connection is None and problem is None:
        return None
    with ws.session() as s:
        todo = ops.unasked(s, ops.case_media_ids(s, case_id))
    if not todo:
        return AskReport()
    try:
        if connection is None:
            raise ValueError(problem)
        with connection.client() as client:
            report = ask_about(ws, client, todo)
    except (ExchangeError, ValueError) as exc:  # refused key, scope, bad config: go on
        with ws.transaction() as s:
            ops.mark_pending(s, todo, str(exc))
        report = AskReport(pending=len(todo), error=str(exc))
    with ws.transaction() as s:
        report.verdicts = refresh_cases(s, [case_id])
    return report


# --- connect ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ConnectResult:
    status: dict[str, Any]
    key_file: Path
    reset: bool  # another exchange or agency than before: earlier answers were dropped


def connect(
    ws: Workspace,
    url: str,
    key: str,
    ca_cert: str | None = None,
    insecure_http: bool = False,
    actor: str | None = None,
) -> ConnectResult:
    """Check the key against `/v1/status`, then record the connection (connection.py). A
    refused key stores nothing."""
    with ExchangeClient(url, key, ca_cert=ca_cert, insecure_http=insecure_http) as client:
        status = client.status()
    path, changed = save(ws, url, key, ca_cert, insecure_http, agency=status.get("agency"))
    with ws.transaction() as s:
        if changed:
            refresh_media(s, ops.forget_answers(s))
        store_audit.audit(
            s,
            "exchange.connect",
            username=actor,
            object_type="exchange",
            object_id=url,
            detail={"agency": status.get("agency"), "scopes": status.get("scopes"),
                    "reset": changed},
        )  # fmt: skip
    return ConnectResult(status, path, changed)


# --- push -------------------------------------------------------------------------------------


@dataclass(slots=True)
class PushReport:
    records: int = 0
    categorized: int = 0
    flagged: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def push_case(
    ws: Workspace,
    client: ExchangeClient,
    case_reference: str,
    *,
    all_media: bool = False,
    case_ref: str | None = None,
    actor: str | None = None,
) -> PushReport:
    with ws.session() as s:
        case_id = repo.get_case(s, case_reference).id
        plan = ops.push_plan(s, case_id, all_media=all_media, case_ref=case_ref)
    report = PushReport(len(plan.records), plan.categorized, plan.flagged)
    if plan.records:
        result = client.push(plan.records)
        report.created, report.updated = result.created, result.updated
        report.unchanged, report.refused = result.unchanged, result.refused
    with ws.transaction() as s:
        store_audit.audit(
            s,
            "exchange.push",
            username=actor,
            object_type="case",
            object_id=case_id,
            detail={
                "url": client.url,
                "records": report.records,
                "all": all_media,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "refused": len(report.refused),
            },
        )
    return report


# --- sync -------------------------------------------------------------------------------------


@dataclass(slots=True)
class SyncReport:
    asked: AskReport = field(default_factory=AskReport)
    changes: int = 0
    media: int = 0  # media whose exchange records changed
    cases: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # "CASE: text"
    links: int = 0
    links_changed: int = 0
    last_seq: int = 0


def sync(ws: Workspace, client: ExchangeClient, actor: str | None = None) -> SyncReport:
    """See the module docstring. Raises `ExchangeError` when the exchange refuses or cannot be
    reached; what was applied before stays applied (the position advances per page)."""
    report = SyncReport()
    with ws.session() as s:
        todo = ops.unasked(s)
    if todo:
        report.asked = ask_about(ws, client, todo)
        if report.asked.error:
            raise ExchangeUnreachable(report.asked.error)
    with ws.session() as s:
        state = s.get(ExchangeSync, 1)
        since = state.last_seq if state is not None else 0
    changes: list[ops.Change] = []
    for page in client.iter_changes(since):
        items = list(page.get("changes", []))
        with ws.transaction() as s:
            changes += ops.apply_changes(s, items)
            state = ops.sync_state(s)
            state.last_seq = max(state.last_seq, int(page.get("last_seq", since)))
        report.changes += len(items)
        since = int(page.get("last_seq", since))
    links = client.series_links()
    with ws.transaction() as s:
        link_changes = ops.replace_series_links(s, links)
        media = {c.media_id for c in changes}
        report.media = len(media)
        refresh_media(s, media)
        report.notices = _notices(s, changes, link_changes)
        cases = media_case_refs(s, media)
        report.cases = sorted({ref for per in cases.values() for ref in per.values()})
        state = ops.sync_state(s)
        state.last_sync_at, state.last_error = utcnow(), None
        report.last_seq, report.links, report.links_changed = (
            state.last_seq,
            len(links),
            len(link_changes),
        )
        store_audit.audit(
            s,
            "exchange.sync",
            username=actor,
            object_type="exchange",
            object_id=client.url,
            detail={
                "asked": report.asked.asked,
                "changes": report.changes,
                "media": report.media,
                "cases": report.cases,
                "notices": report.notices[:50],
                "links_changed": report.links_changed,
                "last_seq": report.last_seq,
            },
        )
    return report


_VERB = {
    "identified": "marked {series} identified",
    "status": "set {series} to {after}",
    "retracted": "retracted its record{of}",
    "new": "now also holds this content{of}",
}


def _who(agency: str, country: str | None) -> str:
    return f"{agency} ({country})" if country else agency


def _notices(
    session: Any, changes: Sequence[ops.Change], links: Sequence[ops.LinkChange]
) -> list[str]:
    """One case notice per (case, agency, series, kind) of what changed, listing the case's
    files with the record's status before and after; returns the texts as "CASE: text"."""
    groups: dict[tuple[str, str | None, str | None, str, str | None], dict[int, ops.Change]] = (
        defaultdict(dict)
    )
    for c in changes:
        if c.kind != "updated":
            groups[(c.agency, c.country, c.series, c.kind, c.after)][c.media_id] = c
    texts: list[str] = []
    for (agency, country, series, kind, after), per_media in sorted(
        groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])
    ):
        verb = _VERB[kind].format(
            series=f"series {series}" if series else "its record",
            after=after,
            of=f" (series {series})" if series else "",
        )
        before = {m: c.before for m, c in per_media.items()}
        texts += _tell(session, per_media, f"{_who(agency, country)} {verb}",
                       {"agency": agency, "series": series, "change": kind, "status": after},
                       before, after)  # fmt: skip
    told = {(agency, series, after) for agency, _, series, _, after in groups}
    for link in links:
        if link.before is None or link.after is None:
            continue  # a link seen for the first time: its media's answers already tell
        if (link.agency, link.other_series, link.after) in told:
            continue  # said by the notice of its media's changes
        members = ops.media_of_series_named(session, link.series)
        verb = (
            f"marked its series {link.other_series} identified"
            if link.after == "identified"
            else f"set its series {link.other_series} to {link.after}"
        )
        kind = "identified" if link.after == "identified" else "status"
        texts += _tell(session, members,
                       f"{_who(link.agency, link.country)} {verb}, linked to series {link.series}",
                       {"agency": link.agency, "series": link.other_series, "change": kind,
                        "linked_series": link.series, "status": link.after},
                       dict.fromkeys(members, link.before), link.after)  # fmt: skip
    return texts


NOTICE_FILES = 200  # files listed in one notice; the rest are counted


def _tell(
    session: Any,
    media: Any,
    what: str,
    detail: dict[str, Any],
    before: dict[int, str | None],
    after: str | None,
) -> list[str]:
    texts: list[str] = []
    refs = {
        cid: ref for per in media_case_refs(session, media).values() for cid, ref in per.items()
    }
    for case_id, files in ops.case_files(session, media).items():
        n = len({m for _, m in files})
        text = f"{what}: {n} media of this case"
        listed = [
            {"path": path, "before": before.get(m) or "not held", "after": after or "retracted"}
            for path, m in files[:NOTICE_FILES]
        ]
        add_notice(session, case_id, NOTICE_KIND, text,
                   detail | {"media": n, "files": listed,
                             "more": max(0, len(files) - NOTICE_FILES)})  # fmt: skip
        texts.append(f"{refs.get(case_id, case_id)}: {text}")
    return texts
