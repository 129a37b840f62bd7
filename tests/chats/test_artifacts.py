"""Artifacts from messages, text files, saved pages and documents (issue 5)."""

from __future__ import annotations

from pathlib import Path

from tantalio.chats.artifacts import extract
from tantalio.chats.registry import parse_exhibit

V3 = "examplesiteforchatfixturesa2b3c4d5e6f7g2h3i4j5k6l7m2n3o4.onion"


def test_extract_every_kind() -> None:
    text = (
        "join https://chat.whatsapp.com/invite/AbCdEfGhIjKlMnOpQrStUv, or wa.me/12025550123; "
        f"mirror http://{V3}/x?y=1. old abcdefghij234567.onion; mail Foo@Example.org; "
        "call +1 (202) 555-0142 or see https://Example.com/path."
    )
    found = {(a.kind, a.value) for a in extract(text, "m:1", chat="g", sender="s")}
    assert found == {
        ("whatsapp_invite", "AbCdEfGhIjKlMnOpQrStUv"),
        ("wa_me", "+12025550123"),
        ("onion", V3),
        ("url", f"http://{V3}/x?y=1"),
        ("onion", "abcdefghij234567.onion"),
        ("email", "foo@example.org"),
        ("phone", "+12025550142"),
        ("url", "https://example.com/path"),
    }


def test_numbers_without_country_need_a_region() -> None:
    assert extract("ring 202 555 0142", "x") == []
    [a] = extract("ring 202 555 0142", "x", region="US")
    assert (a.kind, a.value, a.raw) == ("phone", "+12025550142", "202 555 0142")


def test_saved_page_ties_its_invites_to_its_site(chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "pages")
    assert out.warnings == []
    page = [a for a in out.artifacts if a.where.startswith("links.html")]
    assert {a.site for a in page} == {V3}  # from `<!-- saved from url=(…)… -->`
    invite = next(a for a in page if a.kind == "whatsapp_invite")
    assert (invite.value, invite.where) == ("Gk3Lm9Qp2Rs7Tv1Wx5Yz8", "links.html:4")
    assert ("email", "contact@example.org") in {(a.kind, a.value) for a in page}  # &#64;
    assert ("url", "https://example.net/a?b=1&c=2") in {(a.kind, a.value) for a in page}
    doc = {(a.kind, a.value, a.where) for a in out.artifacts if a.where.startswith("notes")}
    assert doc == {
        ("phone", "+13105550188", "notes.docx:1"),
        ("whatsapp_invite", "AbCdEfGhIjKlMnOpQrStUv", "notes.docx:2"),
    }


def test_undecodable_text_names_the_line(chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "bad")
    text_warnings = [str(w) for w in out.warnings if "Alice.txt" in w.where]
    assert text_warnings == [
        "WhatsApp Chat with Alice.txt:3: not UTF-8 (invalid start byte); undecodable bytes"
        " replaced",
        "WhatsApp Chat with Alice.txt:4: field 'timestamp': unreadable date/time '13/01/2021'"
        " '25:61'",
    ]
