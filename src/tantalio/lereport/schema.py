"""The law-enforcement report package (JSON), as dataclasses, with a strict reader.

One package per reported account: who reports, the account's identifiers, its upload events,
each file's hashes (never the file), the known entries each file matched with their
provenance, and the actions taken. `tantalio ingest CASE report.json` reads it with
`read_report()` and files it as an exhibit. The schema is in docs/platform-api.md; its
version is the `schema` key, and a reader refuses versions it does not know.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

SCHEMA = "tantalio.platform.le-report/1"


class ReportFormatError(ValueError):
    """A file that is not a valid report package; the message names the file and field."""


@dataclass(slots=True)
class Reporter:
    company: str
    first_name: str
    last_name: str
    email: str


@dataclass(slots=True)
class Account:
    id: str
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    profile_url: str | None = None
    service: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class UploadEvent:
    file_ref: str
    time: str | None = None  # ISO 8601 as the platform gave it
    ip: str | None = None
    port: int | None = None


@dataclass(slots=True)
class MatchedEntry:
    bank: str
    entry_id: int
    signal_type: str
    distance: int
    category: int | None = None
    source_category: str | None = None
    source_list: str | None = None
    original_id: str | None = None
    added_at: str | None = None
    matched_at: str | None = None


@dataclass(slots=True)
class ActionTaken:
    action: str
    rule: str
    status: str  # pending | delivered | failed | awaiting-review | rejected-in-review
    delivery_id: str | None = None
    delivered_at: str | None = None
    review_decision: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None


@dataclass(slots=True)
class ReportedFile:
    file_ref: str
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    uploaded_at: str | None = None
    ip: str | None = None
    matches: list[MatchedEntry] = field(default_factory=list)
    actions: list[ActionTaken] = field(default_factory=list)


@dataclass(slots=True)
class LEReport:
    report_id: str
    generated_at: str
    reporter: Reporter
    incident_type: str
    incident_datetime: str | None
    account: Account
    upload_events: list[UploadEvent] = field(default_factory=list)
    files: list[ReportedFile] = field(default_factory=list)
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d = {"schema": d.pop("schema"), **d}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)


def _need(
    d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, optional: bool = False
) -> Any:
    if key not in d or d[key] is None:
        if optional:
            return None
        raise ReportFormatError(f"{where}: missing {key!r}")
    if not isinstance(d[key], kind):
        raise ReportFormatError(f"{where}: {key!r} has the wrong type")
    return d[key]


def _obj(cls: type, d: Any, where: str) -> Any:
    if not isinstance(d, dict):
        raise ReportFormatError(f"{where}: expected an object")
    names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = set(d) - names
    if unknown:
        raise ReportFormatError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    try:
        return cls(**d)
    except TypeError as exc:
        raise ReportFormatError(f"{where}: {exc}") from None


def parse_report(data: dict[str, Any], source: str = "<report>") -> LEReport:
    if not isinstance(data, dict):
        raise ReportFormatError(f"{source}: top level is not a JSON object")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ReportFormatError(f"{source}: unsupported schema {schema!r} (want {SCHEMA!r})")
    _need(data, "report_id", str, source)
    _need(data, "generated_at", str, source)
    _need(data, "incident_type", str, source)
    files = _need(data, "files", list, source)
    events = _need(data, "upload_events", list, source)
    rep = LEReport(
        report_id=data["report_id"],
        generated_at=data["generated_at"],
        reporter=_obj(Reporter, _need(data, "reporter", dict, source), f"{source}: reporter"),
        incident_type=data["incident_type"],
        incident_datetime=_need(data, "incident_datetime", str, source, optional=True),
        account=_obj(Account, _need(data, "account", dict, source), f"{source}: account"),
        upload_events=[
            _obj(UploadEvent, e, f"{source}: upload_events[{i}]") for i, e in enumerate(events)
        ],
        schema=SCHEMA,
    )
    for i, f in enumerate(files):
        where = f"{source}: files[{i}]"
        if not isinstance(f, dict):
            raise ReportFormatError(f"{where}: expected an object")
        f = dict(f)
        matches = [
            _obj(MatchedEntry, m, f"{where}.matches[{j}]")
            for j, m in enumerate(f.pop("matches", []))
        ]
        actions = [
            _obj(ActionTaken, a, f"{where}.actions[{j}]")
            for j, a in enumerate(f.pop("actions", []))
        ]
        rf = _obj(ReportedFile, f, where)
        rf.matches, rf.actions = matches, actions
        rep.files.append(rf)
    return rep


def read_report(source: str | Path | IO[bytes] | IO[str]) -> LEReport:
    """Read a report package from a path or an open file; raises ReportFormatError."""
    if isinstance(source, (str, Path)):
        name = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportFormatError(f"{name}: cannot read: {exc}") from None
    else:
        name = getattr(source, "name", "<stream>")
        raw = source.read()
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(f"{name}: not JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_report(data, name)
