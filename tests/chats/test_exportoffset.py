"""The UTC offset of a text export, and when an export message is a database message's copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tantalio.chats.exportmatch import merge_text_exports, texts_agree
from tantalio.chats.exportoffset import candidate_offset, format_offset, infer_offset
from tantalio.chats.record import Account, ChatRecords, Message

T0 = datetime(2021, 3, 20, 9, 0)


def _votes(offset: int, n: int, start: datetime = T0) -> list[tuple[datetime, set[int]]]:
    return [(start + timedelta(hours=i), {offset}) for i in range(n)]


def test_candidate_offsets_are_whole_quarter_hours_in_range() -> None:
    utc = datetime(2021, 1, 1, 23, 59, 59)
    assert candidate_offset(datetime(2021, 1, 2, 5, 44), utc) == 345  # Nepal, +05:45
    assert candidate_offset(datetime(2021, 1, 2, 1, 0), utc) is None  # +01:01
    assert candidate_offset(datetime(2021, 1, 3, 0, 0), utc) is None  # beyond +14:00
    assert format_offset(-210) == "-03:30" and format_offset(0) == "+00:00"


def test_clear_winner_needed() -> None:
    assert infer_offset(_votes(120, 3)).offsets == (120,)
    too_few = infer_offset(_votes(120, 2))
    assert too_few.offsets == () and "2 of 3" in (too_few.reason or "")
    close = infer_offset(_votes(120, 4) + _votes(-300, 3))
    assert close.offsets == () and "not clear" in (close.reason or "")
    assert infer_offset(_votes(120, 6) + _votes(-300, 3)).offsets == (120,)


def test_a_daylight_saving_change_inside_one_export() -> None:
    winter = _votes(60, 4, T0)
    summer = _votes(120, 5, T0 + timedelta(days=10))
    verdict = infer_offset(winter + summer)
    assert verdict.offsets == (60, 120)
    assert verdict.offsets_at(T0) == (60,)
    assert verdict.offsets_at(T0 + timedelta(days=12)) == (120,)
    assert verdict.offsets_at(T0 + timedelta(days=5)) == (60, 120)  # the change is somewhere here
    assert "+01:00 (4 messages) then +02:00 (5 messages)" in verdict.describe()
    # An hour apart but interleaved in time is no daylight-saving change.
    mixed = [(t, {60 if i % 2 else 120}) for i, (t, _) in enumerate(_votes(0, 8))]
    assert infer_offset(mixed).offsets == ()


def test_texts_agree_after_whitespace_and_truncation() -> None:
    assert texts_agree("see you there", "see you there")
    assert texts_agree("a long holiday message", "a long holiday message that the export cut")
    assert texts_agree("a long holiday message…", "a long holiday message that goes on")
    assert not texts_agree("ok", "okay")
    assert not texts_agree("holiday photos", "other holiday photos")


def _msg(text: str, when: datetime, sender: str, export: str | None = None) -> Message:
    return Message(
        chat="1@g.us",
        chat_kind="group",
        sender=sender,
        timestamp=when,
        text=text,
        key_id=None if export else f"K{text}",
        export=export,
        where=f"{export}:1" if export else "db",
    )


def test_records_level_match_and_a_label_taken_as_its_sender() -> None:
    rec = ChatRecords()
    rec.add_account(Account(key="2@s.whatsapp.net", jid="2@s.whatsapp.net"))
    rec.add_account(Account(key="local:Zoe", names=["Zoe"]))
    texts = ["holiday photos", "beach day", "  beach\nnight ", "see you"]
    for i, t in enumerate(texts):
        utc = datetime(2021, 7, 1, 10, i * 7, 30, tzinfo=UTC)
        rec.messages.append(_msg(t, utc, "2@s.whatsapp.net"))
        local = (utc + timedelta(hours=-4)).replace(tzinfo=None, second=0)
        rec.messages.append(_msg(" ".join(t.split()), local, "local:Zoe", export="e.txt"))
    [result] = merge_text_exports(rec)
    assert (result.verdict.offsets, result.matched, result.only_in_export) == ((-240,), 4, 0)
    assert result.labels == {"local:Zoe": "2@s.whatsapp.net"}
    assert len(rec.messages) == 4 and all(m.also_in == ["e.txt:1"] for m in rec.messages)
    assert "local:Zoe" not in rec.accounts and "Zoe" in rec.accounts["2@s.whatsapp.net"].names
