"""WhatsApp `@lid` identities next to phone JIDs (issue 15).

Recent WhatsApp versions show group members by a "linked identity" (`123456789012345@lid`)
rather than by their phone JID. An account is keyed by its phone JID wherever some evidence
maps the lid to a number; otherwise by the lid (record.py). The mapping is applied at three
levels, so that it holds whichever phone holds it and in whichever order phones arrive:

1. inside one database (`jid_map`: dbchat.DbChatBuilder.account);
2. inside one exhibit, across its sources (`unify`, from registry.parse_exhibit);
3. across exhibits and cases: a lid stored earlier unresolved is re-keyed or merged when a
   later exhibit maps it (store.chats.write), and a lid an earlier exhibit resolved is
   taken as that account here (`resolve_known`, from mediator.ChatMediator.flush).
"""

from __future__ import annotations

from tantalio.chats.record import ChatRecords


def unify(records: ChatRecords) -> None:
    """Within one exhibit: an account keyed by its lid (a database without the mapping) is
    the account another source of the same phone keys by the phone JID it maps that lid
    to."""
    by_lid = {a.lid: a.key for a in records.accounts.values() if a.lid and a.jid and a.key == a.jid}
    renamed = {
        a.key: by_lid[a.key]
        for a in records.accounts.values()
        if a.jid is None and a.lid and a.key == a.lid and a.key in by_lid
    }
    if renamed:
        records.rekey(renamed)


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
