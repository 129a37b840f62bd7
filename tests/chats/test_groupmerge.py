"""The same group on two phones (chats/groupmerge.py): pairing of copies across clocks, and
a subject alone never merging two groups (real SQLite workspace)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tantalio.chats.groupmerge import normalize_subject, pair_copies
from tantalio.chats.record import MediaRef, Message, StoredCopy
from tantalio.demo.chatscenario import (
    START,
    ChatGroup,
    Person,
    _Msgstore,
    build_chat_phones,
)
from tantalio.store.chats import ChatGroup as ChatGroupRow
from tantalio.store.workspace import init_workspace
from tantalio.triage.chat_import import import_chats

G = "120363000000000009@g.us"
A, B = "34600000001@s.whatsapp.net", "34600000002@s.whatsapp.net"


def _export(i: int, sender: str, t: datetime, text: str | None = None, sha: str | None = None):
    media = MediaRef(sha256=sha) if sha else None
    return i, Message(G, "group", sender, t, text=text, media=media, export="chat.txt")


def _copy(i: int, sender: str, t: datetime, text: str | None = None, sha: str | None = None):
    return StoredCopy(i, sender, t, False, None, text, sha, None, f"fp{i}")


def test_copies_pair_at_a_clock_offset_of_any_minutes() -> None:
    """A phone 7 minutes fast on São Paulo time (-02:53): not a 15-minute zone step."""
    t0 = datetime(2024, 2, 5, 12, 0)
    skew = timedelta(hours=-3, minutes=7)
    utc = [t0 + timedelta(minutes=13 * k, seconds=20) for k in range(5)]
    theirs = [_copy(100 + k, A if k % 2 else B, t, f"msg {k}") for k, t in enumerate(utc)]
    mine = [
        _export(k, A if k % 2 else B, (t + skew).replace(second=0), f"msg {k}")
        for k, t in enumerate(utc)
    ]
    mine.append(_export(9, A, t0 + skew, "only on this phone"))
    pairs = pair_copies(mine, theirs, mine_local=True)
    assert sorted((i, c.id) for i, c in pairs) == [(k, 100 + k) for k in range(5)]


def test_too_few_votes_pair_nothing() -> None:
    t = datetime(2024, 2, 5, 12, 0)
    mine = [_export(0, A, t, "hola"), _export(1, B, t, "hola")]
    theirs = [_copy(1, A, t, "hola"), _copy(2, B, t, "hola")]
    assert pair_copies(mine, theirs, mine_local=True) == []


def test_names_local_to_a_phone_never_vote() -> None:
    t = datetime(2024, 2, 5, 12, 0)
    mine = [_export(k, "local:Alice", t + timedelta(minutes=k), f"m{k}") for k in range(5)]
    theirs = [_copy(k, "x3:local:Alice", t + timedelta(minutes=k), f"m{k}") for k in range(5)]
    assert pair_copies(mine, theirs, mine_local=True) == []


def test_subjects_compare_without_case_spacing_and_marks() -> None:
    assert normalize_subject("\u200eAmigos  del PARQUE ") == "amigos del parque"


def test_a_subject_alone_does_not_merge_groups(tmp_path: Path) -> None:
    """Another phone's database holds a different group with the same subject and none of
    its members: the Spanish phone's export of "Amigos del Parque" stays its own group."""
    scenario = build_chat_phones(tmp_path / "evidence")
    strangers = [Person(f"Otro {i}", f"+3469900000{i}") for i in range(4)]
    owner = strangers[0]
    other = ChatGroup(G, "Amigos del Parque", "es", owner, strangers, START)
    db = _Msgstore(tmp_path / "other/data/data/com.whatsapp/databases", owner, set(), set())
    db.group(other)
    db.close(strangers)
    ws = init_workspace(tmp_path / "ws")
    try:
        import_chats(ws, scenario.case, tmp_path / "other", exhibit="other")
        result = import_chats(ws, scenario.case, scenario.phones["phone-es"], exhibit="phone-es")
        assert not any("is 1203" in n for n in result.summary.exports)
        with ws.session() as s:
            keys = set(
                s.scalars(
                    select(ChatGroupRow.key).where(ChatGroupRow.subject == "Amigos del Parque")
                )
            )
        assert keys == {G, "x2:local:group:Amigos del Parque"}
    finally:
        ws.close()
