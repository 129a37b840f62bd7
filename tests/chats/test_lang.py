"""Text exports in the languages of the case (issue 15): one table per language, a sample
line per rule, and a whole export per language and platform built by
scripts/make_chat_fixtures.py."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import tantalio.chats.lang
from tantalio.chats.lang import LANGUAGES, MODULES
from tantalio.chats.registry import parse_exhibit
from tantalio.chats.textsystem import LEXICONS, OMITTED, detect

CAROL = "13105550103@s.whatsapp.net"
DAVE = "14155550104@s.whatsapp.net"
LANGS = ["en", "es", "pt_br", "pt_pt", "fr", "it", "de"]


def test_every_language_module_is_listed() -> None:
    listed = {m.__name__ for m in MODULES}
    for info in pkgutil.iter_modules(tantalio.chats.lang.__path__):
        module = importlib.import_module(f"tantalio.chats.lang.{info.name}")
        assert module.__name__ in listed, f"{info.name} is not in lang.MODULES"
    assert len({lang.code for lang in LANGUAGES}) == len(LANGUAGES)


@pytest.mark.parametrize("lex", LEXICONS, ids=lambda x: x.lang.code)
def test_sample_lines(lex: Any) -> None:
    assert lex.lang.samples, "every language carries sample lines"
    for line, action, actor, targets, subject in lex.lang.samples:
        got = lex.match(line)
        assert got is not None, line
        assert (got.action, got.actor, got.targets, got.subject) == (
            action,
            actor,
            tuple(targets),
            subject,
        ), line
        # The prefilter never hides a rule's line, even with a ': ' in a subject.
        assert lex.may_be_system(line.split(": ", 1)[0]) or ": " not in line
        assert detect([line])[0] is lex or detect([line])[0].match(line) == got
    assert not lex.may_be_system("Alice")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("platform", ["android", "ios"])
def test_export_in_language(
    lang: str, platform: str, chats_data: Path, facts: dict[str, Any]
) -> None:
    out = parse_exhibit(chats_data / "lang" / f"{lang}_{platform}")
    assert [str(w) for w in out.warnings] == []
    [group] = out.groups.values()
    assert group.subject == "Garden Club Weekly"
    assert group.creator == "local:Alice"
    assert group.created_at == datetime(2021, 1, 13, 9, 0)
    systems = [m.system for m in out.messages if m.system]
    assert systems == [
        "other",
        "created",
        "added",  # Alice te añadió
        "added",
        "added",
        "joined_invite",
        "subject_changed",
        "left",
        "removed",
    ]
    texts = [m for m in out.messages if m.system is None]
    assert len(texts) == 5
    photo, video = texts[1].media, texts[2].media
    assert photo is not None and photo.present and photo.sha256 == facts["photo_sha256"]
    assert texts[1].text == "sunset"
    assert video is not None and video.omitted
    assert video.kind == ("video" if platform == "ios" else None)  # Android: "<Media omitted>"
    assert texts[2].sender == CAROL
    m = out.memberships
    assert m[(group.key, DAVE)].joined_how == "invite_link"
    assert m[(group.key, DAVE)].left_how == "removed"
    assert m[(group.key, "local:Erin")].left_how == "left"
    assert m[(group.key, "local:Erin")].added_by == "local:Alice"
    assert m[(group.key, CAROL)].added_by == "local:Alice"
    assert m[(group.key, "owner:phone")].joined_how == "added"  # "Alice te añadió"
    assert m[(group.key, "owner:phone")].added_by == "local:Alice"
    assert "local:Garden Club" not in out.accounts  # iOS: the group is not a sender


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_unknown_language_is_a_warning_naming_the_lines(platform: str, chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "lang" / f"nl_{platform}")
    unrecognized = [w for w in out.warnings if "in no language tantalio knows" in w.message]
    assert len(unrecognized) == 1, [str(w) for w in out.warnings]
    [w] = unrecognized
    assert w.where.endswith(".txt")
    assert "9 system line(s)" in w.message
    assert "heeft groep" in w.message and "line 2" in w.message
    assert len([m for m in out.messages if m.system is None]) == 5  # messages still kept
    assert not any("Garden Club" in k for k in out.accounts)


def test_media_markers_of_every_language() -> None:
    for lang in LANGUAGES:
        for marker in lang.omitted_android:
            assert OMITTED.match(marker), marker
        for phrase in lang.omitted_ios:
            assert OMITTED.match(phrase), phrase


def test_one_unknown_line_in_a_known_language_is_named(chats_data: Path, tmp_path: Path) -> None:
    """A newer phone's line the Spanish table lacks: the rest is read, the line is named."""
    source = chats_data / "lang" / "es_android" / "Chat de WhatsApp con Garden Club.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "14/1/21, 09:30 - Alice fijó un mensaje")
    (tmp_path / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = parse_exhibit(tmp_path)
    [w] = [w for w in out.warnings if "not recognized" in w.message]
    assert "1 system line(s) are not recognized in Spanish, the file's language" in w.message
    assert "line 6: 'Alice fijó un mensaje'" in w.message
    [group] = out.groups.values()
    assert group.creator == "local:Alice"  # the rest of the group's structure is kept
