"""WhatsApp `@lid` identities next to phone JIDs (issue 15).

Recent WhatsApp versions show group members by a "linked identity" (`123456789012345@lid`)
rather than by their phone JID. An account is keyed by its phone JID wherever some evidence
maps the lid to a number; otherwise by the lid (record.py).
"""

from __future__ import annotations

from tantalio.chats.record import ChatRecords


def resolve_known(records: ChatRecords, known: dict[str, str]) -> None:
    """Re-key this exhibit's unresolved lid accounts to the account an earlier exhibit
    resolved the same lid to (`known`: lid -> account key)."""
    renamed = {
        a.key: known[a.lid]
        for a in records.accounts.values()
        if a.jid is None and a.lid and a.key == a.lid and known.get(a.lid, a.key) != a.key
    }
    if renamed:
        records.rekey(renamed)
