"""`import_chats` and the ingest analyzer: folders in place, archives through evidence/."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tantalio.chats.analyzer import ANALYZER
from tantalio.store.workspace import init_workspace
from tantalio.triage.analyzers import load_analyzers
from tantalio.triage.chat_import import import_chats

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario"


def test_archive_is_walked_and_only_wanted_files_are_read(tmp_path: Path) -> None:
    phone = SCENARIO / "phone1"
    archive = tmp_path / "phone1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(phone.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(phone).as_posix())
    with init_workspace(tmp_path / "ws") as ws:
        from_dir = import_chats(ws, "C", phone, exhibit="dir").summary
        from_zip = import_chats(ws, "C", archive).summary
    assert from_zip.warnings == [] and from_dir.warnings == []
    assert (from_zip.accounts, from_zip.groups, from_zip.messages, from_zip.artifacts) == (
        from_dir.accounts,
        from_dir.groups,
        from_dir.messages,
        from_dir.artifacts,
    )
    assert from_dir.messages == 254


def test_owner_given_by_the_examiner(tmp_path: Path) -> None:
    with init_workspace(tmp_path / "ws") as ws:
        result = import_chats(ws, "C", SCENARIO / "phone3", owner="+1 415 555 0152")
        assert result.summary.warnings == []
        from sqlalchemy import select

        from tantalio.store.chats import ChatAccount, ChatAccountSeen

        with ws.session() as s:
            owners = s.scalars(
                select(ChatAccount.key)
                .join(ChatAccountSeen, ChatAccountSeen.account_id == ChatAccount.id)
                .where(ChatAccountSeen.is_owner)
            ).all()
    assert owners == ["14155550152@s.whatsapp.net"]


def test_ingest_finds_the_chat_analyzer() -> None:
    assert ANALYZER in load_analyzers()
    assert ANALYZER.wants("phone/data/data/com.whatsapp/databases/msgstore.db")


def test_finish_leaves_a_chat_exhibit_alone(tmp_path: Path) -> None:
    """A chat exhibit records its source but is no ingest exhibit (never `complete`):
    `ingest --finish` does not walk its folder into it as files."""
    from sqlalchemy import func, select

    from tantalio.store.cases import ExhibitSource, File
    from tantalio.triage.pipeline import IngestOptions, finish_pending

    with init_workspace(tmp_path / "ws") as ws:
        import_chats(ws, "C", SCENARIO / "phone3")
        report = finish_pending(ws, "C", IngestOptions(in_process=True, progress=False))
        with ws.session() as s:
            assert s.scalar(select(func.count(File.id))) == 0
            kinds = list(s.scalars(select(ExhibitSource.kind)))
    assert report.exhibits == [] and kinds == ["chats"]
