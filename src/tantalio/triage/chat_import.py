"""`tantalio chats import`: parse the chats under a path into one exhibit of a case.

Orchestration only, like `hashset_import`: the chat package parses and finishes the records
(`chats.registry.parse_exhibit`, `chats.mediator.ChatMediator`), the store writes them
(`store.chats.sink.WorkspaceChatSink`); neither calls the other.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tantalio.chats.jid import jid_from_phone, normalize_jid, normalize_phone
from tantalio.chats.keys import KeyRing
from tantalio.chats.mediator import ChatMediator
from tantalio.chats.record import ChatSaveSummary
from tantalio.chats.registry import PARSERS, parse_exhibit, wants
from tantalio.store.chats.sink import WorkspaceChatSink
from tantalio.store.repo import ensure_case, ensure_exhibit, record_sources
from tantalio.store.workspace import Workspace


@dataclass(slots=True)
class ImportResult:
    case_created: bool
    exhibit: str
    summary: ChatSaveSummary


def owner_jid_of(owner: str | None, region: str | None) -> str | None:
    """The JID of `--owner` (a JID or a phone number); ValueError when it is neither."""
    if not owner:
        return None
    e164 = normalize_phone(owner, region)
    jid = normalize_jid(owner) if "@" in owner else (jid_from_phone(e164) if e164 else None)
    if jid is None:
        raise ValueError(f"--owner {owner!r} is neither a JID nor a phone number")
    return jid


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
    owner_jid = owner_jid_of(owner, region)
    label = exhibit or path.name
    with tempfile.TemporaryDirectory(prefix="tantalio-chats-") as tmp:
        root = _readable_root(path, Path(tmp))
        records = parse_exhibit(root, owner_jid=owner_jid, region=region, keys=keys)
    with ws.transaction() as session:
        case, created = ensure_case(session, case_reference)
        ex = ensure_exhibit(session, case, label, "chats", str(path))
        record_sources(session, ex, [(os.path.abspath(path), "", "chats")])
        exhibit_id = ex.id
    mediator = ChatMediator(WorkspaceChatSink(ws, exhibit_id), keys.used if keys else ())
    mediator.produce_records(records)
    return ImportResult(created, label, mediator.flush())


def _readable_root(path: Path, tmp: Path) -> Path:
    """`path` itself when it is a folder or a file a parser reads; else the wanted members of
    the archive or image, copied under `tmp`."""
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
