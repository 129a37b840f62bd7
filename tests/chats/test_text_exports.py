"""Every date/locale style of a WhatsApp text export yields the same facts (issue 5)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tantalio.chats.registry import parse_exhibit, wants

STYLES = [
    "android_en_us",
    "android_en_gb",
    "android_de",
    "android_iso",
    "android_es",
    "android_en_us_nnbsp",
    "android_nl",
    "ios_en_us",
    "ios_en_gb",
    "ios_de",
    "ios_iso",
    "ios_es",
    "ios_en_us_nnbsp",
    "ios_ru",
]

CAROL = "13105550103@s.whatsapp.net"
DAVE = "14155550104@s.whatsapp.net"


@pytest.mark.parametrize("style", STYLES)
def test_export_style(style: str, chats_data: Path, facts: dict[str, Any]) -> None:
    out = parse_exhibit(chats_data / "text" / style)
    assert out.warnings == []
    [group] = out.groups.values()
    assert group.subject == "Garden Club Weekly"  # renamed by a subject change
    assert group.creator == "local:Alice"
    assert group.created_at == datetime(2021, 1, 13, 9, 0)
    systems = [m.system for m in out.messages if m.system]
    assert systems == [
        "other",
        "created",
        "added",
        "added",
        "joined_invite",
        "subject_changed",
        "left",
        "removed",
    ]
    texts = [m for m in out.messages if m.system is None]
    assert [m.timestamp for m in texts] == [
        datetime(2021, 1, 14, 10, 6),
        datetime(2021, 1, 15, 18, 30),
        datetime(2021, 1, 16, 20, 15),
        datetime(2021, 1, 17, 8, 0),
        datetime(2021, 1, 21, 21, 45),
    ]
    photo, video = texts[1].media, texts[2].media
    assert photo is not None and photo.present and photo.sha256 == facts["photo_sha256"]
    assert texts[1].text == "sunset"  # the caption on the line after the attachment
    assert video is not None and video.omitted and video.sha256 is None
    assert texts[2].sender == CAROL  # an unsaved number becomes a phone JID
    assert texts[4].text == "Line one\nLine two\nwa.me/12125550102"
    m = out.memberships
    assert m[(group.key, DAVE)].joined_how == "invite_link"
    assert m[(group.key, DAVE)].left_how == "removed"
    assert m[(group.key, "local:Erin")].left_how == "left"
    assert m[(group.key, "local:Erin")].added_by == "local:Alice"
    assert m[(group.key, "owner:phone")].joined_how == "added"  # "Alice added You"
    kinds = {(a.kind, a.value) for a in out.artifacts}
    assert {
        ("url", "https://example.org/rules"),
        ("phone", "+12025550199"),
        ("wa_me", "+12125550102"),
    } <= kinds


def test_direct_chat_export_names_the_owner(chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "text" / "direct")
    assert out.groups == {}
    assert out.accounts["owner:phone"].names == ["Owen"]
    assert {m.chat for m in out.messages} == {"local:Alice"}
    assert [a.value for a in out.artifacts if a.kind == "whatsapp_invite"] == [
        "Gk3Lm9Qp2Rs7Tv1Wx5Yz8"
    ]


def test_ingest_spools_exports_and_attachments() -> None:
    assert wants("phone/WhatsApp Chat with Garden Club.txt")
    assert wants("x/_chat.txt")
    assert wants("x/00000035-PHOTO-2021-01-15-18-30-00.jpg")
    assert wants("x/IMG-20210115-WA0001.jpg")
    assert not wants("DCIM/Camera/20210115_183000.jpg")
