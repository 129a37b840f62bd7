"""The ingest's exhibit analyzer for chats (`triage.analyzers` loads `ANALYZER` from here),
and how a stored exhibit's chats are reported.

Parsing stays free of the database (registry.parse_exhibit); the analyzer emits the
exhibit's records to a `ChatMediator` whose sink the ingest supplies (`ctx.chat_sink()`),
so nothing here imports the store. `tantalio chats import` is `triage.chat_import`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tantalio.chats.keys import KeyRing
from tantalio.chats.mediator import ChatMediator
from tantalio.chats.record import ChatSaveSummary
from tantalio.chats.registry import parse_exhibit, wants

if TYPE_CHECKING:
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


class ChatAnalyzer:
    """Reads an exhibit's chat databases, exports and text files during ingest."""

    name = "chats"

    def wants(self, path: str) -> bool:
        return wants(path)

    def analyze(self, ctx: AnalyzerContext) -> list[str]:
        keys = KeyRing.parse(ctx.chat_keys)
        records = parse_exhibit(ctx.root, keys=keys)
        if records.empty() and not records.warnings:
            return []
        mediator = ChatMediator(ctx.chat_sink(), decrypted=list(keys.used))
        mediator.produce_records(records)
        return summary_lines(mediator.flush())


ANALYZER = ChatAnalyzer()
