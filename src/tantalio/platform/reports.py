"""Build a reported account's law-enforcement package, as JSON and CyberTipline-style XML.

XML follows the element order of NCMEC's CyberTipline reporting API schema: a `report`
(incidentSummary, reporter, personOrUserReported, additionalInfo — the XSD puts
incidentSummary before reporter) and one `fileDetails` per file, whose `originalFileHash`
elements carry the hash type in `hashType` (MD5, SHA1, SHA256, PDQ). The element lists below
are the single source of that order; tests validate the output against it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from tantalio.lereport.schema import (
    Account,
    ActionTaken,
    LEReport,
    MatchedEntry,
    ReportedFile,
    Reporter,
    UploadEvent,
)

if TYPE_CHECKING:
    from tantalio.platform.service import PlatformService

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"

# NCMEC CyberTipline API XSD sequences (the subset tantalio writes).
REPORT_ORDER = (
    "incidentSummary",
    "internetDetails",
    "lawEnforcement",
    "reporter",
    "personOrUserReported",
    "intendedRecipient",
    "victim",
    "additionalInfo",
)
INCIDENT_SUMMARY_ORDER = (
    "incidentType",
    "escalateToHighPriority",
    "reportAnnotations",
    "incidentDateTime",
    "incidentDateTimeDescription",
)
REPORTER_ORDER = (
    "reportingPerson",
    "contactPerson",
    "companyTemplate",
    "termsOfService",
    "legalURL",
)
PERSON_ORDER = ("firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth")
REPORTED_ORDER = (
    "personOrUserReportedPerson",
    "vehicleDescription",
    "espIdentifier",
    "espService",
    "screenName",
    "displayName",
    "profileUrl",
    "ipCaptureEvent",
    "deviceId",
    "thirdPartyUserReported",
    "priorCTReports",
    "groupIdentifier",
    "estimatedLocation",
    "additionalInfo",
)
IP_EVENT_ORDER = ("ipAddress", "eventName", "dateTime", "possibleProxy", "port")
FILE_DETAILS_ORDER = (
    "reportId",
    "fileId",
    "fileName",
    "originalFileName",
    "locationOfFile",
    "fileViewedByEsp",
    "exifViewedByEsp",
    "publiclyAvailable",
    "fileRelevance",
    "fileAnnotations",
    "industryClassification",
    "originalFileHash",
    "ipCaptureEvent",
    "deviceId",
    "details",
    "additionalInfo",
)
HASH_TYPES = (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"), ("pdq", "PDQ"))


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def build_report(service: PlatformService, account_id: str) -> LEReport | None:
    """The package for one account, from every match event recorded for it; None if none."""
    store = service.store
    events = store.match_events_for_account(account_id)
    if not events:
        return None
    entries = service.entries(e.entry_id for e in events)
    banks = store.banks_by_id(include_deleted=True)
    rules = {r.id: r for r in store.list_rules()}
    deliveries = store.list_deliveries(match_event_ids=[e.id for e in events])
    reviews = store.review_items_for_events(e.id for e in events)

    latest = events[-1].account or {}
    account = Account(
        id=account_id,
        username=latest.get("username"),
        display_name=latest.get("display_name"),
        email=latest.get("email"),
        phone=latest.get("phone"),
        profile_url=latest.get("profile_url"),
        service=latest.get("service"),
        extra={
            k: v
            for k, v in latest.items()
            if k
            not in {"id", "username", "display_name", "email", "phone", "profile_url", "service"}
        },
    )
    files: dict[str, ReportedFile] = {}
    uploads: dict[tuple[str, str | None, str | None], UploadEvent] = {}
    for ev in events:
        fh = ev.file_hashes or {}
        up = ev.upload or {}
        ref = (
            ev.content_ref or fh.get("sha256") or fh.get("md5") or fh.get("pdq") or f"event-{ev.id}"
        )
        f = files.get(ref)
        if f is None:
            f = files[ref] = ReportedFile(
                file_ref=ref,
                md5=fh.get("md5"),
                sha1=fh.get("sha1"),
                sha256=fh.get("sha256"),
                pdq=fh.get("pdq"),
                pdq_quality=fh.get("pdq_quality"),
                uploaded_at=up.get("time"),
                ip=up.get("ip"),
            )
        key = (ref, up.get("time"), up.get("ip"))
        if key not in uploads and (up.get("time") or up.get("ip")):
            uploads[key] = UploadEvent(
                file_ref=ref, time=up.get("time"), ip=up.get("ip"), port=up.get("port")
            )
        entry = entries.get(ev.entry_id)
        bank = banks.get(ev.bank_id)
        f.matches.append(
            MatchedEntry(
                bank=bank.name if bank else str(ev.bank_id),
                entry_id=ev.entry_id,
                signal_type=ev.signal_type,
                distance=ev.distance,
                category=entry.category if entry else None,
                source_category=entry.source_category if entry else None,
                source_list=entry.source_list if entry else None,
                original_id=entry.original_id if entry else None,
                added_at=_iso(entry.added_at) if entry else None,
                matched_at=_iso(ev.at),
            )
        )
        for item in (r for r in reviews if r.match_event_id == ev.id):
            rule = rules.get(item.rule_id)
            delivered = [d for d in deliveries if d.review_item_id == item.id]
            status = {"pending": "awaiting-review", "taken": "awaiting-review"}.get(item.status)
            if status is None:
                status = (
                    "rejected-in-review"
                    if item.decision == "reject"
                    else (delivered[0].status if delivered else "pending")
                )
            f.actions.append(
                ActionTaken(
                    action=rule.action if rule else "?",
                    rule=rule.name if rule else "?",
                    status=status,
                    delivery_id=delivered[0].delivery_id if delivered else None,
                    delivered_at=_iso(delivered[0].delivered_at) if delivered else None,
                    review_decision=item.decision,
                    reviewed_by=item.decided_by,
                    reviewed_at=_iso(item.decided_at),
                )
            )
        for d in (d for d in deliveries if d.match_event_id == ev.id and d.review_item_id is None):
            rule = rules.get(d.rule_id)
            f.actions.append(
                ActionTaken(
                    action=d.action,
                    rule=rule.name if rule else "?",
                    status=d.status,
                    delivery_id=d.delivery_id,
                    delivered_at=_iso(d.delivered_at),
                )
            )
    times = sorted(u.time for u in uploads.values() if u.time)
    cfg = service.config.reporter
    return LEReport(
        report_id=str(uuid.uuid4()),
        generated_at=datetime.now(UTC).isoformat(),
        reporter=Reporter(
            company=cfg.get("company", ""),
            first_name=cfg.get("firstName", ""),
            last_name=cfg.get("lastName", ""),
            email=cfg.get("email", ""),
        ),
        incident_type=INCIDENT_TYPE,
        incident_datetime=times[0] if times else _iso(events[0].at),
        account=account,
        upload_events=list(uploads.values()),
        files=list(files.values()),
    )


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = str(text)
    return el


def _ip_event(parent: etree._Element, ip: str, when: str | None, port: int | None = None) -> None:
    ev = _sub(parent, "ipCaptureEvent")
    _sub(ev, "ipAddress", ip)
    _sub(ev, "eventName", "Upload")
    if when:
        _sub(ev, "dateTime", when)
    if port:
        _sub(ev, "port", port)


def to_xml(report: LEReport) -> bytes:
    """The package as XML: `<cybertiplinePackage>` holding `report` then `fileDetails`."""
    root = etree.Element(
        "cybertiplinePackage", schemaVersion="1", generator="tantalio", packageId=report.report_id
    )
    rep = _sub(root, "report")
    summary = _sub(rep, "incidentSummary")
    _sub(summary, "incidentType", report.incident_type)
    _sub(summary, "incidentDateTime", report.incident_datetime or report.generated_at)

    reporter = _sub(rep, "reporter")
    person = _sub(reporter, "reportingPerson")
    _sub(person, "firstName", report.reporter.first_name)
    _sub(person, "lastName", report.reporter.last_name)
    _sub(person, "email", report.reporter.email)
    _sub(reporter, "companyTemplate", report.reporter.company)

    acc = report.account
    reported = _sub(rep, "personOrUserReported")
    if acc.email or acc.phone:
        p = _sub(reported, "personOrUserReportedPerson")
        if acc.phone:
            _sub(p, "phone", acc.phone)
        if acc.email:
            _sub(p, "email", acc.email)
    _sub(reported, "espIdentifier", acc.id)
    if acc.service:
        _sub(reported, "espService", acc.service)
    if acc.username:
        _sub(reported, "screenName", acc.username)
    if acc.display_name:
        _sub(reported, "displayName", acc.display_name)
    if acc.profile_url:
        _sub(reported, "profileUrl", acc.profile_url)
    for up in report.upload_events:
        if up.ip:
            _ip_event(reported, up.ip, up.time, up.port)

    actions = sorted({f"{a.action} ({a.status})" for f in report.files for a in f.actions})
    _sub(
        rep,
        "additionalInfo",
        "Matched against known hash lists by tantalio. Actions taken: "
        + (", ".join(actions) if actions else "none"),
    )

    for i, f in enumerate(report.files, 1):
        fd = _sub(root, "fileDetails")
        _sub(fd, "reportId", report.report_id)
        _sub(fd, "fileId", f"{i}")
        _sub(fd, "originalFileName", f.file_ref)
        _sub(fd, "fileViewedByEsp", "false")
        _sub(fd, "fileRelevance", "Reported")
        for attr, label in HASH_TYPES:
            value = getattr(f, attr)
            if value:
                _sub(fd, "originalFileHash", value, hashType=label)
        if f.ip:
            _ip_event(fd, f.ip, f.uploaded_at)
        for m in f.matches:
            details = _sub(fd, "details", type="HASH")
            for name, value in (
                ("matchedBank", m.bank),
                ("matchedEntryId", m.entry_id),
                ("signalType", m.signal_type),
                ("distance", m.distance),
                ("category", m.category),
                ("sourceList", m.source_list),
                ("originalId", m.original_id),
                ("entryAddedAt", m.added_at),
            ):
                if value is not None:
                    pair = _sub(details, "nameValuePair")
                    _sub(pair, "name", name)
                    _sub(pair, "value", value)
        if f.actions:
            _sub(
                fd,
                "additionalInfo",
                "; ".join(
                    f"{a.action}: {a.status}"
                    + (f" (review: {a.review_decision})" if a.review_decision else "")
                    for a in f.actions
                ),
            )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
