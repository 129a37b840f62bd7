"""The words of WhatsApp text exports, one table per language (issue 15).

A phone exports its chats in the language the phone is set to: system lines ("Alice creó el
grupo “X”"), attachment markers ("IMG-…jpg (archivo adjunto)", "<adjunto: …>"), left-out
media ("<Multimedia omitido>", "‎imagen omitida") and the file's name ("Chat de WhatsApp con
X.txt") all change. Each language is a module here holding a `LANGUAGE` table of plain data;
`textsystem.py` compiles them, and `LANGUAGES` lists them (a test fails when a module is not
listed). Adding a language is one module plus one line in `LANGUAGES`, and a fixture.

Rule patterns are regular expressions with these placeholders:

- `{actor}` a contact label (never holds ':', that would be a sender prefix);
- `{targets}` one or more labels, split on commas and the language's `and_words`;
- `{subject}`, `{old}` a quoted group name; `{q}` / `{qc}` an opening / closing quote as
  the phones write them (`"`, `“ ”`, `„ “`, `« »`).

A rule whose line names the phone's owner without a label ("Creaste el grupo", "Alice te
añadió") says so with a third item, `owner-actor` / `owner-target`; a label that means the owner
("You", "Você", "vous", "dich") is listed in `owner_words`.

`keywords` must hold, for every rule, a word its lines have before any ': ' (a subject may
hold one): a message line without any is not tried against the rules, which keeps a
1M-message export fast. tests/chats/test_lang.py checks every sample line against both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tantalio.chats.lang import de, en, es, fr, it, pt_br, pt_pt


@dataclass(frozen=True, slots=True)
class Rule:
    action: str  # one of record.SYSTEM_ACTIONS
    pattern: str
    actor_is_owner: bool = False
    target_is_owner: bool = False


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # BCP 47: es, pt-BR, ...
    name: str
    rules: tuple[Rule, ...]
    keywords: tuple[str, ...]
    owner_words: tuple[str, ...] = ()
    and_words: tuple[str, ...] = ()
    target_article: str | None = None  # Spanish "añadió a Bob y a Carol"
    attached_android: tuple[str, ...] = ()  # `IMG-….jpg (file attached)`
    attached_ios: tuple[str, ...] = ()  # `<attached: 00000012-PHOTO-….jpg>`
    omitted_android: tuple[str, ...] = ()  # `<Media omitted>`
    omitted_ios: dict[str, str] = field(default_factory=dict)  # "image omitted" -> kind
    chat_file: tuple[str, ...] = ()  # export file/folder names before the chat's name
    samples: tuple[tuple[str, str, str | None, tuple[str, ...], str | None], ...] = ()
    # (line, action, actor, targets, subject) as phones write them, for the tests


OWNER_ACTOR, OWNER_TARGET = "owner-actor", "owner-target"
MODULES = (en, es, pt_br, pt_pt, fr, it, de)


def _rule(entry: tuple[str, ...]) -> Rule:
    action, pattern, *flags = entry
    return Rule(action, pattern, OWNER_ACTOR in flags, OWNER_TARGET in flags)


def _load() -> tuple[Language, ...]:
    out = []
    for module in MODULES:
        table = dict(module.LANGUAGE)
        table["rules"] = tuple(_rule(r) for r in table["rules"])
        out.append(Language(**table))
    return tuple(out)


LANGUAGES: tuple[Language, ...] = _load()
BY_CODE = {lang.code: lang for lang in LANGUAGES}
