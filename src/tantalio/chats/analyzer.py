"""Glue between the chat parsers and the case store: the ingest's exhibit analyzer
(`triage.analyzers` loads `ANALYZER` from here) and `import_chats` behind
`tantalio chats import`.

Parsing stays free of the database (registry.parse_exhibit); this module only hands the
records of one exhibit to `store.chats.save_exhibit_chats`, in one transaction.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tantalio.chats.keys import KeyRing
from tantalio.chats.record import ChatRecords
from tantalio.chats.registry import parse_exhibit, wants

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.store.chats import ChatSaveSummary
    from tantalio.store.workspace import Workspace
    from tantalio.triage.analyzers import AnalyzerContext

MAX_WARNINGS_SHOWN = 20


def summary_lines(summary: ChatSaveSummary) -> list[str]:
    """What to tell the examiner: counts, then warnings (the first few, and how many more)."""
    lines = [
        f"{summary.accounts} accounts, {summary.groups} groups, {summary.memberships} "
        f"memberships, {summary.messages} messages ({summary.media_linked} linked to stored "
        f"media), {summary.artifacts} artifacts"
    ]
    lines += [f"text export: {note}" for note in summary.exports]
    shown = summary.warnings[:MAX_WARNINGS_SHOWN]
    lines += [f"warning: {w}" for w in shown]
    if len(summary.warnings) > len(shown):
        lines.append(f"... and {len(summary.warnings) - len(shown)} more warnings")
    return lines


def _empty(records: ChatRecords) -> bool:
    return not (records.accounts or records.groups or records.messages or records.artifacts)


def save_records(
    ws: Workspace, exhibit_id: int, records: ChatRecords, keys: KeyRing | None = None
) -> ChatSaveSummary:
    from tantalio.store.chats import save_exhibit_chats

    with ws.transaction() as session:
        summary = save_exhibit_chats(session, exhibit_id, records)
        _audit_keys(session, exhibit_id, keys)
        return summary


def _audit_keys(session: Session, exhibit_id: int, keys: KeyRing | None) -> None:
    """Each decryption with an examiner's key is audited: which file, which key (by its
    fingerprint: the key itself is never stored)."""
    from tantalio.store.audit import audit

    for label, fingerprint in keys.used if keys else ():
        audit(
            session,
            "chats.decrypt",
            object_type="exhibit",
            object_id=exhibit_id,
            detail={"file": label, "key_fingerprint": fingerprint},
        )


class ChatAnalyzer:
    """Reads an exhibit's chat databases, exports and text files during ingest."""

    name = "chats"

    def wants(self, path: str) -> bool:
        return wants(path)

    def analyze(self, ctx: AnalyzerContext) -> list[str]:
        keys = KeyRing.parse(ctx.chat_keys)
        records = parse_exhibit(ctx.root, keys=keys)
        if _empty(records) and not records.warnings:
            return []
        return summary_lines(save_records(ctx.ws, ctx.exhibit_id, records, keys))


ANALYZER = ChatAnalyzer()


@dataclass(slots=True)
class ImportResult:
    case_created: bool
    exhibit: str
    summary: ChatSaveSummary


def import_chats(
    ws: Workspace,
    case_reference: str,
    path: Path,
    *,
    exhibit: str | None = None,
    owner: str | None = None,
    region: str | None = None,
    keys: KeyRing | None = None,
) -> ImportResult:
    """Parse the chats under `path` into one exhibit of the case (both created on first use).

    A folder or a single chat file is read in place (read-only); an archive or disk image is
    walked with `tantalio.evidence` and the files the parsers want are copied to a private
    temporary folder first. `owner` is the phone's own number or JID when the examiner knows
    it; `keys` the examiner's keys for encrypted sources (each use is audited). Re-importing
    the same exhibit replaces its chat records.
    """
    from tantalio.chats.jid import jid_from_phone, normalize_jid, normalize_phone
    from tantalio.store.repo import ensure_case, ensure_exhibit

    owner_jid = None
    if owner:
        e164 = normalize_phone(owner, region)
        owner_jid = (
            normalize_jid(owner) if "@" in owner else (jid_from_phone(e164) if e164 else None)
        )
        if owner_jid is None:
            raise ValueError(f"--owner {owner!r} is neither a JID nor a phone number")
    label = exhibit or path.name
    with tempfile.TemporaryDirectory(prefix="tantalio-chats-") as tmp:
        root = _readable_root(path, Path(tmp))
        records = parse_exhibit(root, owner_jid=owner_jid, region=region, keys=keys)
    with ws.transaction() as session:
        case, created = ensure_case(session, case_reference)
        ex = ensure_exhibit(session, case, label, "chats", str(path))
        exhibit_id = ex.id
    return ImportResult(created, label, save_records(ws, exhibit_id, records, keys))


def _readable_root(path: Path, tmp: Path) -> Path:
    """`path` itself when it is a folder or a file a parser reads; else the wanted members of
    the archive or image, copied under `tmp`."""
    from tantalio.chats.registry import PARSERS

    if path.is_dir() or any(p.name_matches(path.name) for p in PARSERS) or wants(path.name):
        return path
    from tantalio.evidence import open_source
    from tantalio.triage.analyzers import spool_path

    for ef in open_source(path):
        if ef.open is None or not wants(ef.path):
            continue
        target = spool_path(tmp, ef.path)
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with ef.open() as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return tmp
