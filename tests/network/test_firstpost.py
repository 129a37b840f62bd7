"""Clock alignment and first posters on hand-made message copies (firstpost.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tantalio.network.firstpost import align_clocks, media_spread
from tantalio.store.chats.copies import CopyRow

T0 = datetime(2024, 2, 5, 12, 0)


def _copy(
    n: int,
    exhibit: int,
    t: datetime,
    sender: str,
    *,
    local: bool = False,
    sha: str | None = None,
    text: str | None = None,
    group: str = "Circle",
) -> CopyRow:
    return CopyRow(
        id=n,
        exhibit_id=exhibit,
        exhibit=f"C/e{exhibit}",
        local_time=local,
        utc_offset=None,
        chat_kind="group",
        group_id=1,
        group=group,
        peer_id=None,
        sender_id=hash(sender) % 1000,
        sender=sender,
        sender_local=False,
        timestamp=t,
        media_sha256=sha,
        text=text,
        forwarded=False,
    )


def _shared_chat(ahead: timedelta, n: int = 5) -> list[CopyRow]:
    """n messages seen on a database (exhibit 1, UTC) and an export (exhibit 2, local)."""
    out = []
    for i in range(n):
        t = T0 + timedelta(hours=i)
        out.append(_copy(2 * i, 1, t, f"a{i % 2}", text=f"msg {i}"))
        out.append(_copy(2 * i + 1, 2, t + ahead, f"a{i % 2}", local=True, text=f"msg {i}"))
    return out


def test_offset_from_the_same_messages_on_two_phones() -> None:
    copies = _shared_chat(timedelta(hours=-3, minutes=7))
    # The same text sent again a day later is a vote that must not win.
    copies.append(_copy(100, 2, T0 + timedelta(hours=20), "a0", local=True, text="msg 0"))
    fixes = align_clocks(copies)
    assert fixes[(1, False)].via == "reference"
    local = fixes[(2, True)]
    assert (round(local.offset_minutes or 0), local.anchors, local.via) == (-173, 5, "anchors")


def test_too_few_anchors_leave_a_clock_unaligned_and_the_first_poster_uncertain() -> None:
    copies = _shared_chat(timedelta(hours=1), n=2)
    copies.append(_copy(50, 1, T0 + timedelta(days=1, minutes=30), "late", sha="f" * 64))
    copies.append(
        _copy(51, 2, T0 + timedelta(days=1, minutes=40), "early", local=True, sha="f" * 64)
    )
    report = media_spread(copies)
    assert report.clocks[(2, True)].via == "unaligned"
    [spread] = report.media
    assert spread.first.sender == "late"  # phone time: the export's 40 minutes read as UTC
    assert spread.uncertain and "not aligned" in spread.uncertain


def test_aligned_clocks_reorder_posters_and_close_calls_are_uncertain() -> None:
    copies = _shared_chat(timedelta(hours=1))
    sha = "e" * 64
    copies.append(_copy(60, 1, T0 + timedelta(days=1, minutes=30), "second", sha=sha))
    copies.append(
        _copy(
            61, 2, T0 + timedelta(days=1, minutes=80), "first", local=True, sha=sha, group="Other"
        )
    )
    [spread] = media_spread(copies).media
    assert [p.sender for p in spread.posts] == ["first", "second"]  # 00:20 UTC before 00:30
    assert spread.uncertain is None and spread.groups == 2
    close = "d" * 64
    copies.append(_copy(70, 1, T0 + timedelta(days=2), "x", sha=close))
    copies.append(
        _copy(71, 2, T0 + timedelta(days=2, minutes=61), "y", local=True, sha=close, group="Other")
    )
    by_sha = {m.sha256: m for m in media_spread(copies).media}
    assert by_sha[close].first.sender == "x"
    assert by_sha[close].uncertain == "y posted it within 3 minutes"


def test_one_post_seen_on_two_phones_has_not_spread() -> None:
    copies = _shared_chat(timedelta(hours=1))
    sha = "c" * 64
    copies.append(_copy(80, 1, T0 + timedelta(days=1), "p", sha=sha))
    copies.append(_copy(81, 2, T0 + timedelta(days=1, hours=1), "p", local=True, sha=sha))
    assert media_spread(copies).media == []
    [one] = media_spread(copies, only=[sha]).media
    assert one.exhibits == ["C/e1", "C/e2"] and len(one.posts) == 1
